//! `BotTokenValid`: which key signed the bot token the ingestion config carries
//! (`spec.ingestion.botTokenSecretRef`). Pure. Reported, not blocking `Ready` (the server runs
//! either way); a token the server rejects keeps the ingestion Secret as it was. Messages name the
//! key id and the date, never the token.

use crate::reasons::Reason;
use jiff::Timestamp;

use super::conditions::{Cond, ConditionType};
use crate::keys::token::BotTokenCheck;

/// The condition for `check`.
pub(crate) fn condition(check: &BotTokenCheck) -> Cond {
    let field = "the bot token in spec.ingestion.botTokenSecretRef";
    match check {
        BotTokenCheck::Current => Cond::new(
            ConditionType::BotTokenValid,
            true,
            Reason::SignedByCurrentKey,
            format!("{field} is signed by the server's current key"),
        ),
        BotTokenCheck::Retired { kid, until } => {
            let until = Timestamp::from_second(*until)
                .map_or_else(|_| "its grace window ends".to_owned(), |t| t.to_string());
            Cond::new(
                ConditionType::BotTokenValid,
                true,
                Reason::SignedByRetiredKey,
                format!(
                    "{field} is signed by the retired key {kid}, which the server accepts until \
                     {until}: renew it before (docs/rotating-keys.md: regenerate the bot's token, \
                     then put it in that Secret)"
                ),
            )
        }
        BotTokenCheck::Rejected => Cond::new(
            ConditionType::BotTokenValid,
            false,
            Reason::BotTokenRejected,
            format!(
                "{field} is signed by neither the server's current key nor a retired one in its \
                 grace window: the server rejects it. The ingestion Secret keeps its previous \
                 content until the token is renewed (docs/rotating-keys.md)"
            ),
        ),
        BotTokenCheck::NotAToken => Cond::new(
            ConditionType::BotTokenValid,
            false,
            Reason::BotTokenNotAJwt,
            format!(
                "{field} is not an RS256 JWT, which OpenMetadata's bot tokens are; the ingestion \
                 Secret keeps its previous content"
            ),
        ),
    }
}

/// The ingestion Secret may be written with this token.
pub(crate) fn accepted(check: Option<&BotTokenCheck>) -> bool {
    matches!(
        check,
        None | Some(BotTokenCheck::Current | BotTokenCheck::Retired { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::status::conditions::Truth;

    #[test]
    fn each_verdict_names_the_key_and_the_fix_never_the_token() {
        let retired = condition(&BotTokenCheck::Retired {
            kid: "old-kid".into(),
            until: 1_800_000_000,
        });
        assert_eq!(
            (retired.truth, retired.reason.as_ref()),
            (Truth::True, "SignedByRetiredKey")
        );
        assert!(
            retired.message.contains("old-kid") && retired.message.contains("2027-01-15T08:00:00Z")
        );
        let rejected = condition(&BotTokenCheck::Rejected);
        assert_eq!(
            (rejected.truth, rejected.reason.as_ref()),
            (Truth::False, "BotTokenRejected")
        );
        assert_eq!(condition(&BotTokenCheck::Current).truth, Truth::True);
        assert_eq!(
            condition(&BotTokenCheck::NotAToken).reason,
            "BotTokenNotAJwt"
        );
        assert!(accepted(None) && accepted(Some(&BotTokenCheck::Current)));
        assert!(!accepted(Some(&BotTokenCheck::Rejected)));
        assert!(!accepted(Some(&BotTokenCheck::NotAToken)));
    }
}
