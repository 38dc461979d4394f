//! The numbers `incr` adds: integers stay integers until they would overflow.

use std::fmt;

/// A stored number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
}

impl Number {
    /// The number that JSON `text` holds, if it holds one.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match serde_json::from_str::<serde_json::Value>(text).ok()? {
            serde_json::Value::Number(n) => Some(Self::from_json(&n)),
            _ => None,
        }
    }

    /// A JSON number as a stored number.
    #[must_use]
    pub fn from_json(n: &serde_json::Number) -> Self {
        n.as_i64().map_or_else(|| Self::Float(n.as_f64().unwrap_or(f64::NAN)), Self::Int)
    }

    /// The number as a float.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    /// Whether JSON can hold it (not NaN, not infinite).
    #[must_use]
    pub fn is_finite(self) -> bool {
        match self {
            Self::Int(_) => true,
            Self::Float(f) => f.is_finite(),
        }
    }
}

impl std::ops::Add for Number {
    type Output = Self;

    /// Whole when both are and the sum fits, else a float.
    #[allow(clippy::cast_precision_loss)] // past i64 the sum is a float, as in Lua
    fn add(self, by: Self) -> Self {
        match (self, by) {
            (Self::Int(a), Self::Int(b)) => {
                a.checked_add(b).map_or_else(|| Self::Float(a as f64 + b as f64), Self::Int)
            }
            (a, b) => Self::Float(a.as_f64() + b.as_f64()),
        }
    }
}

impl fmt::Display for Number {
    /// The JSON text of the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => match serde_json::Number::from_f64(*x) {
                Some(n) => write!(f, "{n}"),
                None => write!(f, "null"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_whole_until_they_overflow() {
        assert_eq!(Number::Int(2) + Number::Int(3), Number::Int(5));
        assert_eq!(Number::Int(2) + Number::Float(0.5), Number::Float(2.5));
        assert!(matches!(Number::Int(i64::MAX) + Number::Int(1), Number::Float(_)));
        assert_eq!(Number::parse("41"), Some(Number::Int(41)));
        assert_eq!(Number::parse("1.5"), Some(Number::Float(1.5)));
        assert_eq!(Number::parse("\"7\""), None);
        assert_eq!(Number::Float(2.5).to_string(), "2.5");
        assert_eq!(Number::Int(-3).to_string(), "-3");
    }
}
