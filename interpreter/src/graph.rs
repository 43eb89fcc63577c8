//! The stage graph: datasets and stages as nodes, "reads from" as edges (petgraph).
//!
//! Edges point from producer to consumer, so a topological order is an execution order.
//! Exports are leaves that write a file.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Dataset,
    Stage,
    Export,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    /// The op (for datasets: the source op; for exports: the format).
    pub op: String,
    pub kind: NodeKind,
}

#[derive(Debug, Default)]
pub struct StageGraph {
    pub graph: DiGraph<Node, ()>,
    index: HashMap<String, NodeIndex>,
    /// Edges already present: petgraph's `contains_edge` walks a node's edge list, which
    /// made a dataset read by every stage quadratic to build.
    edges: HashSet<(NodeIndex, NodeIndex)>,
}

impl StageGraph {
    pub fn add(&mut self, name: &str, op: &str, kind: NodeKind) -> NodeIndex {
        let ix = self.graph.add_node(Node {
            name: name.to_string(),
            op: op.to_string(),
            kind,
        });
        if kind != NodeKind::Export {
            self.index.insert(name.to_string(), ix);
        }
        ix
    }

    pub fn node(&self, name: &str) -> Option<NodeIndex> {
        self.index.get(name).copied()
    }

    /// Adds `from → to` once.
    pub fn depend(&mut self, to: NodeIndex, from: NodeIndex) {
        if self.edges.insert((from, to)) {
            self.graph.add_edge(from, to, ());
        }
    }

    /// Each dependency cycle as a closed path of names (`a → b → a`), one per strongly
    /// connected component, starting from its earliest-declared node.
    pub fn cycles(&self) -> Vec<Vec<NodeIndex>> {
        let mut cycles = Vec::new();
        for mut scc in tarjan_scc(&self.graph) {
            let self_loop = scc.len() == 1 && self.graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            scc.sort();
            cycles.push(self.cycle_through(scc[0], &scc));
        }
        cycles.sort();
        cycles
    }

    /// A shortest path from `start` back to itself inside `members` (breadth-first).
    fn cycle_through(&self, start: NodeIndex, members: &[NodeIndex]) -> Vec<NodeIndex> {
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            for next in self.graph.neighbors_directed(n, Direction::Outgoing) {
                if !members.contains(&next) {
                    continue;
                }
                if next == start {
                    // Walk back from `n` to `start`, then read it forwards and close it.
                    let mut path = vec![n];
                    while *path.last().expect("non-empty") != start {
                        let back = parent[path.last().expect("non-empty")];
                        path.push(back);
                    }
                    path.reverse();
                    path.push(start);
                    return path;
                }
                if next != start && !parent.contains_key(&next) {
                    parent.insert(next, n);
                    queue.push_back(next);
                }
            }
        }
        vec![start, start]
    }

    /// Nodes in dependency order, or `None` when there is a cycle.
    pub fn topological(&self) -> Option<Vec<NodeIndex>> {
        toposort(&self.graph, None).ok()
    }

    pub fn name(&self, ix: NodeIndex) -> &str {
        &self.graph[ix].name
    }

    /// Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut out =
            String::from("digraph recipe {\n    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n");
        for ix in self.graph.node_indices() {
            let n = &self.graph[ix];
            let shape = match n.kind {
                NodeKind::Dataset => "cylinder",
                NodeKind::Stage => "box",
                NodeKind::Export => "note",
            };
            let _ = writeln!(
                out,
                "    n{} [label=\"{}\\n{}\", shape={shape}];",
                ix.index(),
                dot_escape(&n.name),
                dot_escape(&n.op)
            );
        }
        for e in self.graph.edge_indices() {
            let (a, b) = self.graph.edge_endpoints(e).expect("edge exists");
            let _ = writeln!(out, "    n{} -> n{};", a.index(), b.index());
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for ix in self.graph.node_indices() {
            let n = &self.graph[ix];
            let label = format!("{}<br/>{}", mermaid_escape(&n.name), mermaid_escape(&n.op));
            let _ = match n.kind {
                NodeKind::Dataset => writeln!(out, "    n{}[(\"{label}\")]", ix.index()),
                NodeKind::Stage => writeln!(out, "    n{}[\"{label}\"]", ix.index()),
                NodeKind::Export => writeln!(out, "    n{}[/\"{label}\"/]", ix.index()),
            };
        }
        for e in self.graph.edge_indices() {
            let (a, b) = self.graph.edge_endpoints(e).expect("edge exists");
            let _ = writeln!(out, "    n{} --> n{}", a.index(), b.index());
        }
        out
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycle_is_a_closed_forward_path() {
        let mut g = StageGraph::default();
        let a = g.add("a", "op", NodeKind::Stage);
        let b = g.add("b", "op", NodeKind::Stage);
        let c = g.add("c", "op", NodeKind::Stage);
        let d = g.add("d", "op", NodeKind::Stage);
        g.depend(b, a); // a → b
        g.depend(c, b); // b → c
        g.depend(a, c); // c → a
        g.depend(d, c);
        let cycles = g.cycles();
        assert_eq!(cycles.len(), 1);
        let names: Vec<_> = cycles[0].iter().map(|&n| g.name(n)).collect();
        assert_eq!(names, ["a", "b", "c", "a"]);
    }

    #[test]
    fn self_loop_is_a_cycle() {
        let mut g = StageGraph::default();
        let a = g.add("a", "op", NodeKind::Stage);
        g.depend(a, a);
        let names: Vec<_> = g.cycles()[0].iter().map(|&n| g.name(n)).collect();
        assert_eq!(names, ["a", "a"]);
    }
}
