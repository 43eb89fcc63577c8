//! `dtac run --until STAGE`: the part of a recipe a set of stages needs.

use std::collections::BTreeSet;

use super::Recipe;

impl Recipe {
    /// Keeps the `targets` and every dataset and stage they read, directly or not, and the
    /// exports of the kept stages; drops the rest. An unknown target is an error naming
    /// the closest stage.
    pub fn restrict(mut self, targets: &[String]) -> Result<Recipe, String> {
        if targets.is_empty() {
            return Ok(self);
        }
        let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        for target in targets {
            if !names.contains(&target.as_str()) {
                let hint = match crate::suggest::did_you_mean(target, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the stages are: {}", names.join(", ")),
                };
                return Err(format!(
                    "`--until {target}`: the recipe has no stage `{target}`; {hint}"
                ));
            }
        }
        let mut keep: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = targets.to_vec();
        while let Some(name) = todo.pop() {
            if !keep.insert(name.clone()) {
                continue;
            }
            if let Some(node) = self.nodes.iter().find(|n| n.name == name) {
                todo.extend(node.upstream.iter().cloned());
            }
        }
        self.nodes.retain(|n| keep.contains(&n.name));
        self.exports.retain(|e| keep.contains(&e.stage));
        Ok(self)
    }
}
