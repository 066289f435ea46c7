//! The levels of geography that results are reported at.

/// The levels results are reported at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// The level named `id`, as written in tables.
    pub fn parse(id: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.id() == id)
    }
}
