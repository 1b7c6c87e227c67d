//! Lexer and recursive-descent parser for conditions.
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | compare
//! compare := operand (OP operand | "in" list | "not" "in" list)?
//! operand := PATH | "as_of" | INT | STRING | "true" | "false"
//!          | NAME "(" (expr ("," expr)*)? ")" | "(" expr ")"
//! list    := "[" (STRING ("," STRING)*)? "]"
//! OP      := "==" | "!=" | "<" | "<=" | ">" | ">="
//! ```

use super::ExprError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn apply<T: PartialOrd>(self, l: T, r: T) -> bool {
        match self {
            CmpOp::Eq => l == r,
            CmpOp::Ne => l != r,
            CmpOp::Lt => l < r,
            CmpOp::Le => l <= r,
            CmpOp::Gt => l > r,
            CmpOp::Ge => l >= r,
        }
    }
}

/// A syntax-tree node; `pos` is its character offset in the source, for errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Compare(Box<Node>, CmpOp, Box<Node>),
    In {
        value: Box<Node>,
        list: Vec<Node>,
        negated: bool,
    },
    /// `person.x`, `enterprise.x` or `param.x`.
    Path(String),
    AsOf,
    Int(i64),
    Str(String),
    Bool(bool),
    Call {
        name: String,
        args: Vec<Node>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Int(i64),
    Str(String),
    Op(CmpOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

fn lex(src: &str) -> Result<Vec<(Token, usize)>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let token = match c {
            _ if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => Token::LParen,
            ')' => Token::RParen,
            '[' => Token::LBracket,
            ']' => Token::RBracket,
            ',' => Token::Comma,
            '=' | '!' | '<' | '>' => {
                let (op, len) = operator(&chars[i..]).ok_or_else(|| {
                    ExprError::syntax(start, format!("unexpected `{c}` (did you mean `==`?)"))
                })?;
                i += len - 1;
                Token::Op(op)
            }
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .ok_or_else(|| ExprError::syntax(start, "unterminated string"))?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 1;
                Token::Str(text)
            }
            _ if c.is_ascii_digit() => {
                let len = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let text: String = chars[i..i + len].iter().collect();
                i += len - 1;
                Token::Int(
                    text.parse()
                        .map_err(|_| ExprError::syntax(start, "number too large"))?,
                )
            }
            _ if c.is_ascii_lowercase() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || **c == '_' || **c == '.'
                    })
                    .count();
                let text: String = chars[i..i + len].iter().collect();
                i += len - 1;
                Token::Word(text)
            }
            _ => return Err(ExprError::syntax(start, format!("unexpected `{c}`"))),
        };
        tokens.push((token, start));
        i += 1;
    }
    Ok(tokens)
}

fn operator(rest: &[char]) -> Option<(CmpOp, usize)> {
    let second = rest.get(1).copied();
    match (rest[0], second) {
        ('=', Some('=')) => Some((CmpOp::Eq, 2)),
        ('!', Some('=')) => Some((CmpOp::Ne, 2)),
        ('<', Some('=')) => Some((CmpOp::Le, 2)),
        ('>', Some('=')) => Some((CmpOp::Ge, 2)),
        ('<', _) => Some((CmpOp::Lt, 1)),
        ('>', _) => Some((CmpOp::Gt, 1)),
        _ => None,
    }
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    next: usize,
    end: usize,
}

/// Parses a condition into its syntax tree.
pub fn parse(src: &str) -> Result<Node, ExprError> {
    let mut p = Parser {
        tokens: lex(src)?,
        next: 0,
        end: src.chars().count(),
    };
    let node = p.or()?;
    match p.peek() {
        None => Ok(node),
        Some(_) => Err(ExprError::syntax(
            p.pos(),
            "unexpected text after the expression",
        )),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(t, _)| t)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(_, p)| *p)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).map(|(t, _)| t.clone());
        self.next += 1;
        token
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), ExprError> {
        if self.peek() == Some(&token) {
            self.next += 1;
            Ok(())
        } else {
            Err(ExprError::syntax(self.pos(), format!("expected {what}")))
        }
    }

    fn chain(
        &mut self,
        word: &str,
        item: fn(&mut Self) -> Result<Node, ExprError>,
        build: fn(Vec<Node>) -> NodeKind,
    ) -> Result<Node, ExprError> {
        let first = item(self)?;
        if !self.at_word(word) {
            return Ok(first);
        }
        let pos = first.pos;
        let mut items = vec![first];
        while self.at_word(word) {
            self.next += 1;
            items.push(item(self)?);
        }
        Ok(Node {
            kind: build(items),
            pos,
        })
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        self.chain("or", Self::and, NodeKind::Or)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        self.chain("and", Self::unary, NodeKind::And)
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.at_word("not") {
            let pos = self.pos();
            self.next += 1;
            let inner = self.unary()?;
            return Ok(Node {
                kind: NodeKind::Not(Box::new(inner)),
                pos,
            });
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Node, ExprError> {
        let left = self.operand()?;
        let pos = left.pos;
        if let Some(Token::Op(op)) = self.peek() {
            let op = *op;
            self.next += 1;
            let right = self.operand()?;
            return Ok(Node {
                kind: NodeKind::Compare(Box::new(left), op, Box::new(right)),
                pos,
            });
        }
        let negated = self.at_word("not")
            && matches!(self.tokens.get(self.next + 1), Some((Token::Word(w), _)) if w == "in");
        if negated {
            self.next += 1;
        }
        if self.at_word("in") {
            self.next += 1;
            let list = self.list()?;
            return Ok(Node {
                kind: NodeKind::In {
                    value: Box::new(left),
                    list,
                    negated,
                },
                pos,
            });
        }
        Ok(left)
    }

    fn list(&mut self) -> Result<Vec<Node>, ExprError> {
        self.expect(Token::LBracket, "`[` to start a list")?;
        let mut items = Vec::new();
        while self.peek() != Some(&Token::RBracket) {
            if !items.is_empty() {
                self.expect(Token::Comma, "`,` or `]`")?;
            }
            items.push(self.operand()?);
        }
        self.next += 1;
        Ok(items)
    }

    fn operand(&mut self) -> Result<Node, ExprError> {
        let pos = self.pos();
        let kind = match self.bump() {
            Some(Token::Int(n)) => NodeKind::Int(n),
            Some(Token::Str(s)) => NodeKind::Str(s),
            Some(Token::LParen) => {
                let inner = self.or()?;
                self.expect(Token::RParen, "`)`")?;
                return Ok(inner);
            }
            Some(Token::Word(w)) => self.word(w, pos)?,
            _ => return Err(ExprError::syntax(pos, "expected a value")),
        };
        Ok(Node { kind, pos })
    }

    fn word(&mut self, word: String, pos: usize) -> Result<NodeKind, ExprError> {
        Ok(match word.as_str() {
            "true" => NodeKind::Bool(true),
            "false" => NodeKind::Bool(false),
            "as_of" => NodeKind::AsOf,
            "and" | "or" | "not" | "in" => {
                return Err(ExprError::syntax(
                    pos,
                    format!("expected a value, found `{word}`"),
                ));
            }
            _ if word.contains('.') => NodeKind::Path(word),
            _ => {
                self.expect(Token::LParen, &format!("`(` after function name `{word}`"))?;
                let mut args = Vec::new();
                while self.peek() != Some(&Token::RParen) {
                    if !args.is_empty() {
                        self.expect(Token::Comma, "`,` or `)`")?;
                    }
                    args.push(self.or()?);
                }
                self.next += 1;
                NodeKind::Call { name: word, args }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(src: &str) -> NodeKind {
        parse(src).unwrap().kind
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let NodeKind::Or(items) = kind("a.x or not b.y and c.z") else {
            panic!("expected or");
        };
        assert_eq!(items[0].kind, NodeKind::Path("a.x".into()));
        let NodeKind::And(inner) = &items[1].kind else {
            panic!("expected and");
        };
        assert!(matches!(inner[0].kind, NodeKind::Not(_)));
    }

    #[test]
    fn parses_calls_lists_and_comparisons() {
        let NodeKind::In { list, negated, .. } = kind(r#"person.d not in ["a", "b"]"#) else {
            panic!("expected in");
        };
        assert!(negated);
        assert_eq!(list.len(), 2);
        let NodeKind::Compare(l, op, r) = kind("age(person.birth_date) <= 35") else {
            panic!("expected compare");
        };
        assert_eq!(op, CmpOp::Le);
        assert!(
            matches!(l.kind, NodeKind::Call { ref name, ref args } if name == "age" && args.len() == 1)
        );
        assert_eq!(r.kind, NodeKind::Int(35));
        assert_eq!(kind("(as_of)"), NodeKind::AsOf);
    }

    #[test]
    fn syntax_errors_point_at_the_problem() {
        let e = parse("person.x ==").unwrap_err();
        assert_eq!(e.pos, 11);
        let e = parse("person.x = 1").unwrap_err();
        assert_eq!(e.pos, 9);
        assert!(
            parse(r#"f("x"#)
                .unwrap_err()
                .message
                .contains("unterminated")
        );
        assert!(
            parse("a.b c.d")
                .unwrap_err()
                .message
                .contains("after the expression")
        );
        assert!(parse("a.b in [\"x\"").is_err());
        assert!(parse("Person.x").is_err());
    }
}
