//! What a question must be before it is searched, and how it may appear in
//! a log.

/// The longest question, in characters.
pub const MAX_CHARS: usize = 500;

/// Why a question is refused; each is a 400 with its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuestionError {
    #[error("the question is empty")]
    Empty,
    #[error("the question is longer than {MAX_CHARS} characters")]
    TooLong,
    /// Control characters, or bytes that were not text.
    #[error("the question holds characters that are not text")]
    NotText,
    /// HTML tags, script URLs or event handlers.
    #[error("the question holds markup or script")]
    Markup,
}

/// The question trimmed, or why it is refused.
pub fn check(question: &str) -> Result<&str, QuestionError> {
    let q = question.trim();
    if q.is_empty() {
        return Err(QuestionError::Empty);
    }
    if q.chars().count() > MAX_CHARS {
        return Err(QuestionError::TooLong);
    }
    if q.chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || c == '\u{FFFD}')
    {
        return Err(QuestionError::NotText);
    }
    if has_markup(q) {
        return Err(QuestionError::Markup);
    }
    Ok(q)
}

/// A tag (`<` then a letter, `/`, `!` or `?`), a `javascript:` or
/// `vbscript:` URL, or an HTML event handler (`onload=`…).
fn has_markup(q: &str) -> bool {
    let lower = q.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let tag = chars.windows(2).any(|w| {
        matches!(w[0], '<' | '＜') && (w[1].is_ascii_alphabetic() || "/!?".contains(w[1]))
    });
    let url = ["javascript:", "vbscript:", "data:text/html"]
        .iter()
        .any(|s| lower.contains(s));
    let handler = lower.match_indices("on").any(|(i, _)| {
        let before_ok = i == 0 || !lower[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
        let rest = &lower[i + 2..];
        let name_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        before_ok && name_len >= 3 && rest[name_len..].trim_start().starts_with('=')
    });
    tag || url || handler
}

/// The question as a log may hold it: every run of 11 or more digits (with
/// an id number's final `X`) keeps its first three and last character and
/// masks the rest, so resident ids, phone and card numbers never reach a log.
pub fn masked(question: &str) -> String {
    let chars: Vec<char> = question.chars().collect();
    let mut out = String::with_capacity(question.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], 'x' | 'X')) {
            i += 1;
        }
        let run = &chars[start..i];
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        if digits >= 11 {
            for (k, c) in run.iter().enumerate() {
                out.push(if k < 3 || k + 1 == run.len() { *c } else { '*' });
            }
        } else {
            out.extend(run);
        }
        if i < chars.len() {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_questions_pass_trimmed() {
        assert_eq!(check("  租房补贴有多少？ "), Ok("租房补贴有多少？"));
        assert_eq!(check("Is 3 < 5 years ok?"), Ok("Is 3 < 5 years ok?"));
        assert_eq!(
            check("Can a person on leave apply?"),
            Ok("Can a person on leave apply?")
        );
    }

    #[test]
    fn bad_questions_are_refused_by_kind() {
        assert_eq!(check(" \n "), Err(QuestionError::Empty));
        assert_eq!(check(&"房".repeat(501)), Err(QuestionError::TooLong));
        assert_eq!(check(&"房".repeat(500)).map(str::len), Ok(1500));
        assert_eq!(check("补贴\u{0}\u{1}"), Err(QuestionError::NotText));
        assert_eq!(check("补贴\u{FFFD}"), Err(QuestionError::NotText));
        assert_eq!(
            check("<script>alert(1)</script>"),
            Err(QuestionError::Markup)
        );
        assert_eq!(
            check("<img src=x onerror=alert(1)>"),
            Err(QuestionError::Markup)
        );
        assert_eq!(check("see javascript:alert(1)"), Err(QuestionError::Markup));
        assert_eq!(check("a onload = x"), Err(QuestionError::Markup));
    }

    #[test]
    fn id_and_phone_numbers_are_masked_for_logs() {
        assert_eq!(
            masked("我的身份证440301199001011234能领吗"),
            "我的身份证440**************4能领吗"
        );
        assert_eq!(
            masked("ID 11010519491231002X ok"),
            "ID 110**************X ok"
        );
        assert_eq!(masked("call 13800138000"), "call 138*******0");
        assert_eq!(masked("补贴1250元，24个月"), "补贴1250元，24个月");
    }
}
