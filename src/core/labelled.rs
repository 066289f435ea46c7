//! Enums whose variants are a fixed list with an id each (settings, sectors, levels,
//! tables). One macro writes the enum, its `ALL` list, `COUNT`, `id`, `index` and `parse`
//! from a single list, so a new variant is counted everywhere at once: arrays sized by
//! `COUNT` grow with it, and every `match` that must handle it fails to compile until it
//! does. Nothing is counted by hand.

/// Declares a field-less enum with `ALL`, `COUNT`, `id()`, `index()` and `parse()`.
///
/// ```
/// capsim::labelled_enum! {
///     /// A colour.
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum Colour { Red => "red", Blue => "blue" }
/// }
/// assert_eq!(Colour::COUNT, 2);
/// assert_eq!(Colour::parse("blue"), Some(Colour::Blue));
/// assert_eq!(Colour::Blue.index(), 1);
/// ```
#[macro_export]
macro_rules! labelled_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $id:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order (the order of outputs).
            pub const ALL: [$name; [$($id),+].len()] = [$($name::$variant),+];
            /// How many variants there are.
            pub const COUNT: usize = Self::ALL.len();

            /// The id used in datasets, scenario files and outputs.
            pub fn id(self) -> &'static str {
                match self {
                    $($name::$variant => $id),+
                }
            }

            /// Position in [`Self::ALL`], for arrays sized by [`Self::COUNT`].
            pub fn index(self) -> usize {
                self as usize
            }

            /// The variant with id `id`.
            pub fn parse(id: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.id() == id)
            }
        }
    };
}
