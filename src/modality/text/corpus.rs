//! Text data: items of characters (a name, a line of the user's file), the vocabulary
//! they use and the token sequences the networks read.
//!
//! Token 0 is the boundary: a sequence starts after it and ends with it. Characters are
//! tokens 1.. in the vocabulary's sorted order.

use crate::data::DataError;
use std::path::Path;

/// The built-in corpus: 5163 distinct US first names (lower case, 2 to 11 letters), from
/// the 1990 Census name lists (public domain; see assets/NAMES.md).
const NAMES: &str = include_str!("../../../assets/names.txt");

/// Longest item a text file may hold, in characters: recurrent models read one
/// character a step, and longer lines are documents rather than items.
pub const MAX_ITEM_CHARS: usize = 64;
/// Most distinct characters a text file may use: more means it is not one alphabet
/// (or not text), and the output layer grows with each.
pub const MAX_VOCABULARY: usize = 96;
/// Largest text file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Fewest items worth training on.
pub const MIN_ITEMS: usize = 10;

/// The characters of a corpus, sorted; token `i + 1` is `chars[i]`, token 0 the boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    pub chars: Vec<char>,
}

/// The boundary token: before the first character and after the last.
pub const BOUNDARY: u32 = 0;

impl Vocabulary {
    fn of<'a>(items: impl Iterator<Item = &'a str>) -> Vocabulary {
        let mut chars: Vec<char> = items.flat_map(str::chars).collect();
        chars.sort_unstable();
        chars.dedup();
        Vocabulary { chars }
    }
    /// Tokens, the boundary included.
    pub fn size(&self) -> usize {
        self.chars.len() + 1
    }
    pub fn token(&self, c: char) -> Option<u32> {
        self.chars.binary_search(&c).ok().map(|i| i as u32 + 1)
    }
    /// The character of a token; `None` for the boundary (and out-of-range tokens).
    pub fn char(&self, token: u32) -> Option<char> {
        (token as usize)
            .checked_sub(1)
            .and_then(|i| self.chars.get(i))
            .copied()
    }
    /// Characters up to the first boundary.
    pub fn decode(&self, tokens: impl IntoIterator<Item = u32>) -> String {
        tokens.into_iter().map_while(|t| self.char(t)).collect()
    }
}

/// Text items with their vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSet {
    pub items: Vec<String>,
    pub vocabulary: Vocabulary,
    /// Characters of the longest item.
    pub max_chars: usize,
}

impl TextSet {
    pub fn new(items: Vec<String>) -> TextSet {
        let vocabulary = Vocabulary::of(items.iter().map(String::as_str));
        let max_chars = items.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        TextSet {
            items,
            vocabulary,
            max_chars,
        }
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Token positions of one sequence: every character and the closing boundary.
    pub fn sequence_len(&self) -> usize {
        self.max_chars + 1
    }
    /// Item `i` as `sequence_len` values: its tokens, the boundary, then -1 (no token)
    /// to the end, as f32 so a batch travels like other data.
    pub fn write_sequence(&self, i: usize, out: &mut Vec<f32>) {
        let start = out.len();
        out.extend(
            self.items[i]
                .chars()
                .filter_map(|c| self.vocabulary.token(c))
                .map(|t| t as f32),
        );
        out.push(BOUNDARY as f32);
        out.resize(start + self.sequence_len(), -1.0);
    }
    /// Every item's sequence (`write_sequence`), one after another.
    pub fn tokens(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.len() * self.sequence_len());
        for i in 0..self.len() {
            self.write_sequence(i, &mut out);
        }
        out
    }

    /// Splits off the last `n` items (a held-out set), keeping one vocabulary and length.
    pub fn split_off(&mut self, n: usize) -> TextSet {
        let keep = self.len().saturating_sub(n);
        TextSet {
            items: self.items.split_off(keep),
            vocabulary: self.vocabulary.clone(),
            max_chars: self.max_chars,
        }
    }
}

/// The built-in names, in a fixed shuffled order (seeded) so a held-out tail is a fair
/// draw and not the end of the alphabet.
pub fn names(seed: u64) -> TextSet {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut items: Vec<String> = NAMES.lines().map(str::to_owned).collect();
    items.shuffle(&mut crate::data::SeededRng::seed_from_u64(
        seed ^ 0x4e41_4d45,
    ));
    TextSet::new(items)
}

/// A UTF-8 text file, one item per line (blank lines skipped, line ends trimmed),
/// shuffled by `seed` like the names.
pub fn read_file(path: &Path, seed: u64) -> Result<TextSet, DataError> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let size = std::fs::metadata(path)
        .map_err(|e| DataError::io(path, e))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(DataError::malformed(
            path,
            format!(
                "the file has {} MB; text files of at most {} MB are read",
                size >> 20,
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let mut items = parse(&bytes).map_err(|m| DataError::malformed(path, m))?;
    items.shuffle(&mut crate::data::SeededRng::seed_from_u64(
        seed ^ 0x4e41_4d45,
    ));
    Ok(TextSet::new(items))
}

/// The items of a text file's bytes, or what is wrong with them.
pub fn parse(bytes: &[u8]) -> Result<Vec<String>, String> {
    if bytes.contains(&0) {
        return Err("this is a binary file (it holds NUL bytes), not text".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text: the bytes at offset {} are no UTF-8 character",
            e.valid_up_to()
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
            return Err(format!(
                "line {} holds the control character U+{:04X}: is this a text file?",
                n + 1,
                c as u32
            ));
        }
        let chars = line.chars().count();
        if chars > MAX_ITEM_CHARS {
            return Err(format!(
                "line {} has {chars} characters; items of at most {MAX_ITEM_CHARS} are read (one name, word or short line per line)",
                n + 1
            ));
        }
        items.push(line.to_owned());
    }
    if items.is_empty() {
        return Err("the file has no text: put one item per line".into());
    }
    if items.len() < MIN_ITEMS {
        return Err(format!(
            "the file has {} items; at least {MIN_ITEMS} lines are needed to train on",
            items.len()
        ));
    }
    let vocabulary = Vocabulary::of(items.iter().map(String::as_str));
    if vocabulary.chars.len() > MAX_VOCABULARY {
        return Err(format!(
            "the file uses {} distinct characters; at most {MAX_VOCABULARY} are supported (one alphabet, digits and punctuation)",
            vocabulary.chars.len()
        ));
    }
    Ok(items)
}
