//! The levels of geography that results are reported at.

/// The levels results are reported at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    System,
    Place,
    Neighbourhood,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::System, Level::Place, Level::Neighbourhood];

    pub fn id(self) -> &'static str {
        match self {
            Level::System => "system",
            Level::Place => "place",
            Level::Neighbourhood => "neighbourhood",
        }
    }
}
