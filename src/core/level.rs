//! The levels of geography that results are reported at.

crate::labelled_enum! {
    /// The levels results are reported at, in output order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Level {
        System => "system",
        Place => "place",
        Neighbourhood => "neighbourhood",
        /// A risk pool, at the place or system named in its row.
        Pool => "pool",
    }
}
