//! Durations written like `2160h`, `90d` or `1h30m`.

use std::time::Duration;

/// Parses a sequence of `<digits><unit>` with units `s`, `m`, `h`, `d`. Returns a message for the
/// user on failure.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let mut total: u64 = 0;
    let mut digits = String::new();
    if text.is_empty() {
        return Err("is empty; write it like 2160h or 90d".into());
    }
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "{text:?} has unknown unit {c:?}; use s, m, h or d (like 2160h)"
                ));
            }
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("{text:?} needs a number before each unit (like 2160h)"))?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?} is too long"))?;
    }
    if !digits.is_empty() {
        return Err(format!(
            "{text:?} ends without a unit; use s, m, h or d (like 2160h)"
        ));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_combined_units() {
        assert_eq!(
            parse_duration("2160h"),
            Ok(Duration::from_secs(2160 * 3600))
        );
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("1h30m5s"), Ok(Duration::from_secs(5405)));
    }

    #[test]
    fn rejects_malformed_durations_with_a_hint() {
        for bad in ["", "10", "h", "10w", "1.5h", "-1h", "99999999999999999999d"] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(!err.is_empty());
        }
        assert!(parse_duration("10w").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("10").unwrap_err().contains("without a unit"));
    }
}
