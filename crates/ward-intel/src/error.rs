//! Errors of the intel readers. Every variant names the file it came from and, where the
//! format has one, the position: a JSON pointer, an XML byte offset or a line number.

use std::path::PathBuf;

/// Why a file could not be read, parsed or accepted.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Malformed JSON or JSON of the wrong shape. `pointer` is a JSON pointer (`/a/0/b`).
    #[error("{file}: JSON error at {pointer} (line {line}, column {column}): {message}")]
    Json {
        file: String,
        pointer: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: XML error at byte {offset}: {message}")]
    Xml {
        file: String,
        offset: usize,
        message: String,
    },
    #[error("{file}: YAML error at line {line}: {message}")]
    Yaml {
        file: String,
        line: usize,
        message: String,
    },
    /// CSV and tag-value documents: one record or tag per line.
    #[error("{file}: line {line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
    /// The document parsed but breaks a rule of its format. `test` names the rule
    /// (a CSAF test id such as `6.1.1`, or e.g. `cyclonedx:required`).
    #[error("{file}: invalid ({test}) at {pointer}: {message}")]
    Invalid {
        file: String,
        test: String,
        pointer: String,
        message: String,
    },
    #[error("{file}: format not recognised: {hint}")]
    UnknownFormat { file: String, hint: String },
    #[error("{file}: checksum mismatch ({algorithm}): expected {expected}, computed {actual}")]
    Checksum {
        file: String,
        algorithm: String,
        expected: String,
        actual: String,
    },
    #[error("{file}: signature: {message}")]
    Signature { file: String, message: String },
}

impl IntelError {
    /// The rule id for [`IntelError::Invalid`], if this is one.
    pub fn test_id(&self) -> Option<&str> {
        match self {
            IntelError::Invalid { test, .. } => Some(test),
            _ => None,
        }
    }

    /// Where in the document: the JSON pointer of [`IntelError::Json`] and
    /// [`IntelError::Invalid`] (for XML documents `byte N`), `line N` for line-based
    /// formats, `byte N` for XML syntax errors.
    pub fn position(&self) -> Option<String> {
        match self {
            IntelError::Json { pointer, .. } | IntelError::Invalid { pointer, .. } => {
                Some(pointer.clone())
            }
            IntelError::Xml { offset, .. } => Some(format!("byte {offset}")),
            IntelError::Yaml { line, .. } | IntelError::Line { line, .. } => {
                Some(format!("line {line}"))
            }
            _ => None,
        }
    }

    pub(crate) fn invalid(
        file: &str,
        test: &str,
        pointer: &str,
        message: impl Into<String>,
    ) -> Self {
        IntelError::Invalid {
            file: file.to_string(),
            test: test.to_string(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
}

/// Deserialize JSON into `T`, reporting the JSON pointer of the first error.
pub(crate) fn from_json_slice<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    file: &str,
) -> Result<T, IntelError> {
    if let Some((line, column)) = too_deep(bytes) {
        return Err(IntelError::Json {
            file: file.to_string(),
            pointer: "/".into(),
            line,
            column,
            message: format!("nesting deeper than {MAX_JSON_DEPTH} levels"),
        });
    }
    // Fast path without path tracking; on failure parse again to find the pointer.
    match serde_json::from_slice::<T>(bytes) {
        Ok(v) => Ok(v),
        Err(plain) => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
            match result {
                Ok(_) => Err(json_error(file, "", &plain)),
                Err(e) => {
                    let pointer = path_to_pointer(e.path());
                    Err(json_error(file, &pointer, e.inner()))
                }
            }
        }
    }
}

/// Deepest JSON nesting accepted. Real documents stay far below; the limit keeps the
/// recursive deserializers within a 2 MiB thread stack even in debug builds.
pub const MAX_JSON_DEPTH: usize = 64;

/// Position (line, column) where nesting first exceeds [`MAX_JSON_DEPTH`], if it does.
fn too_deep(bytes: &[u8]) -> Option<(usize, usize)> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    let (mut line, mut col) = (1usize, 0usize);
    for &b in bytes {
        col += 1;
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Some((line, col));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'\n' => {
                line += 1;
                col = 0;
            }
            _ => {}
        }
    }
    None
}

fn json_error(file: &str, pointer: &str, e: &serde_json::Error) -> IntelError {
    IntelError::Json {
        file: file.to_string(),
        pointer: if pointer.is_empty() {
            "/".to_string()
        } else {
            pointer.to_string()
        },
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    }
}

/// serde_json appends " at line L column C"; we report those separately.
fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { variant } => {
                out.push('/');
                out.push_str(variant);
            }
            Segment::Unknown => out.push_str("/?"),
        }
    }
    out
}
