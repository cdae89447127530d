"""The tone rubric: deterministic checks of a reply, with quoted evidence and a suggestion per criterion."""
