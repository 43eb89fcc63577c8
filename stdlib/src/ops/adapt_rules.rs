//! DART's decisions as plain functions over plain data (METHODS.md §4): splitting an
//! expert solution into steps, finding the imitation gap in the adaptability curve, and
//! choosing the exploration to keep.

/// The steps of `solution` split on `separator`, each keeping its separator, so that
/// joining them gives the text back exactly. Runs of separators stay with the step before.
pub fn split_steps(solution: &str, separator: &str) -> Vec<String> {
    if separator.is_empty() {
        return vec![solution.to_string()];
    }
    let mut steps: Vec<String> = Vec::new();
    let mut rest = solution;
    while let Some(at) = rest.find(separator) {
        let (piece, after) = rest.split_at(at + separator.len());
        match steps.last_mut() {
            // A piece that is only separators joins the step before it.
            Some(last) if piece.trim().is_empty() => last.push_str(piece),
            _ => steps.push(piece.to_string()),
        }
        rest = after;
    }
    if !rest.is_empty() {
        match steps.last_mut() {
            Some(last) if rest.trim().is_empty() => last.push_str(rest),
            _ => steps.push(rest.to_string()),
        }
    }
    steps
}

/// The prefixes the student is simulated from: steps `..=i` for every step but the last
/// (the whole solution states its own answer, so following it proves nothing).
pub fn prefixes(steps: &[String]) -> Vec<String> {
    (1..steps.len()).map(|n| steps[..n].concat()).collect()
}

/// The imitation gap: the first prefix index `i` whose adaptability is below `tau`, or
/// that drops by more than `delta` from the one before. `None`: the student follows the
/// whole solution.
pub fn gap(adaptability: &[f64], tau: f64, delta: f64) -> Option<usize> {
    adaptability.iter().enumerate().find_map(|(i, &f)| {
        let dropped = i > 0 && adaptability[i - 1] - f > delta;
        (f < tau || dropped).then_some(i)
    })
}

/// The first exploration (in sample order) that reaches the reference answer, and the
/// share that did.
pub fn first_consistent(reached: &[bool]) -> (Option<usize>, f64) {
    let share = if reached.is_empty() {
        0.0
    } else {
        reached.iter().filter(|r| **r).count() as f64 / reached.len() as f64
    };
    (reached.iter().position(|r| *r), share)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_rejoin_to_the_text() {
        let text = "First.\n\nSecond.\n\n\n\nThird.\n\n";
        let steps = split_steps(text, "\n\n");
        assert_eq!(steps.concat(), text);
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[1], "Second.\n\n\n\n");
        assert_eq!(split_steps("one step", "\n\n"), vec!["one step"]);
        assert_eq!(
            prefixes(&steps),
            vec!["First.\n\n", "First.\n\nSecond.\n\n\n\n"]
        );
        assert!(prefixes(&split_steps("x", "\n\n")).is_empty());
    }

    #[test]
    fn the_gap_is_the_first_low_or_falling_step() {
        assert_eq!(gap(&[1.0, 0.75, 0.2, 0.0], 0.25, 0.5), Some(2), "below tau");
        assert_eq!(gap(&[1.0, 0.4, 0.3], 0.25, 0.5), Some(1), "a drop of 0.6");
        assert_eq!(gap(&[1.0, 0.75, 0.5, 0.5], 0.25, 0.5), None);
        assert_eq!(gap(&[0.0, 1.0], 0.25, 0.5), Some(0), "the first step");
        assert_eq!(gap(&[], 0.25, 0.5), None);
        // Both parameters matter: a stricter delta finds an earlier gap.
        assert_eq!(gap(&[1.0, 0.75, 0.5], 0.25, 0.2), Some(1));
    }

    #[test]
    fn the_first_consistent_exploration_wins() {
        assert_eq!(
            first_consistent(&[false, true, true, false]),
            (Some(1), 0.5)
        );
        assert_eq!(first_consistent(&[false, false]), (None, 0.0));
        assert_eq!(first_consistent(&[]), (None, 0.0));
    }
}
