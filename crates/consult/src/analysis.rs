//! How questions and clauses become terms: jieba (search mode) for Chinese,
//! tantivy's English stemmer for English, the same analyser for a clause and
//! for a question in its language. Words that only frame a question ("how",
//! "can I", "怎么", "能不能") are stop words: they neither rank nor count
//! towards coverage.

use std::sync::Arc;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};
use tantivy_jieba::jieba_rs::{Jieba, TokenizeMode};

/// The field and analyser a question is searched with, by its script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    /// Any Chinese character: jieba over the clause's Chinese text.
    Han,
    /// Otherwise: the English analyser over the clause's English text.
    Latin,
}

impl Script {
    pub fn of(text: &str) -> Script {
        if text.chars().any(is_han) {
            Script::Han
        } else {
            Script::Latin
        }
    }

    /// The tokenizer's name in the index.
    pub fn tokenizer(self) -> &'static str {
        match self {
            Script::Han => "opcity_zh",
            Script::Latin => "opcity_en",
        }
    }
}

pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// The segmenters of one clause set: jieba's embedded dictionary plus the
/// clauses' own Chinese keywords, so that "训力券" or "一人公司" are words.
#[derive(Clone)]
pub struct Analysis {
    jieba: Arc<Jieba>,
}

impl std::fmt::Debug for Analysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analysis")
    }
}

impl Analysis {
    /// jieba with `words` added to its dictionary.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Analysis {
        let mut jieba = Jieba::new();
        for word in words {
            if word.chars().any(is_han) {
                jieba.add_word(word, None, None);
            }
        }
        Analysis {
            jieba: Arc::new(jieba),
        }
    }

    /// The analyser of the index and of the terms a question is ranked by:
    /// for Chinese, jieba's search mode (a word and the dictionary words
    /// inside it), without its HMM guesses, which would turn "能住" or "券是"
    /// into words no clause holds.
    pub fn analyzer(&self, script: Script) -> TextAnalyzer {
        self.with_mode(script, true)
    }

    /// The units a question's coverage is measured in: its content words,
    /// for Chinese in jieba's precise mode (one segmentation, no overlapping
    /// sub-words), each once.
    pub fn units(&self, script: Script, text: &str) -> Vec<String> {
        let mut analyzer = self.with_mode(script, false);
        let mut out: Vec<String> = Vec::new();
        for t in terms(&mut analyzer, script, text) {
            if is_content(script, &t) && !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// English words as written (lower-cased) beside their stems: typos
    /// are corrected on the written word, which stemming may have mangled.
    pub fn spellings(&self, text: &str) -> Vec<(String, String)> {
        let mut raw = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .build();
        let mut stem = self.analyzer(Script::Latin);
        let mut out = Vec::new();
        let mut stream = raw.token_stream(text);
        while stream.advance() {
            let word = stream.token().text.clone();
            if let Some(s) = terms(&mut stem, Script::Latin, &word).pop() {
                out.push((word, s));
            }
        }
        out
    }

    fn with_mode(&self, script: Script, search: bool) -> TextAnalyzer {
        match script {
            Script::Han => TextAnalyzer::builder(Segmenter {
                jieba: self.jieba.clone(),
                search,
            })
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .build(),
            Script::Latin => TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(Stemmer::new(Language::English))
                .build(),
        }
    }
}

/// jieba as a tantivy tokenizer, sharing one dictionary.
#[derive(Clone)]
struct Segmenter {
    jieba: Arc<Jieba>,
    search: bool,
}

struct Segments {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for Segmenter {
    type TokenStream<'a> = Segments;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Segments {
        let mode = if self.search {
            TokenizeMode::Search
        } else {
            TokenizeMode::Default
        };
        let tokens = self
            .jieba
            .tokenize(text, mode, false)
            .into_iter()
            .enumerate()
            .map(|(position, t)| {
                let from = t.word.as_ptr() as usize - text.as_ptr() as usize;
                Token {
                    offset_from: from,
                    offset_to: from + t.word.len(),
                    position,
                    text: t.word.to_owned(),
                    position_length: 1,
                }
            })
            .collect();
        Segments { tokens, next: 0 }
    }
}

impl TokenStream for Segments {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The terms of `text`, in order, without punctuation, blanks and stop
/// words (repeats kept: the index counts them).
pub fn terms(analyzer: &mut TextAnalyzer, script: Script, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token().text.trim();
        if t.is_empty() || !t.chars().any(char::is_alphanumeric) || is_stop(script, t) {
            continue;
        }
        out.push(t.to_owned());
    }
    out
}

/// Whether a term is substantial enough to count towards coverage: a single
/// Chinese character ("钱", "房") or a single letter is too ambiguous to
/// show that a clause answers the question, though it still ranks.
pub fn is_content(script: Script, term: &str) -> bool {
    match script {
        Script::Han => term.chars().count() >= 2,
        Script::Latin => term.chars().count() >= 2,
    }
}

fn is_stop(script: Script, term: &str) -> bool {
    match script {
        Script::Han => ZH_STOP.contains(&term) || EN_STOP_STEMMED.contains(&term),
        Script::Latin => EN_STOP_STEMMED.contains(&term),
    }
}

/// Question framing in Chinese: pronouns, particles, modal and question words.
const ZH_STOP: &[&str] = &[
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "嘛",
    "么",
    "我",
    "你",
    "他",
    "她",
    "我们",
    "你们",
    "他们",
    "自己",
    "本人",
    "是",
    "在",
    "有",
    "和",
    "与",
    "及",
    "或",
    "或者",
    "还是",
    "也",
    "都",
    "就",
    "还",
    "要",
    "想",
    "会",
    "能",
    "能不能",
    "可以",
    "可不可以",
    "可否",
    "是否",
    "怎么",
    "怎么样",
    "怎样",
    "如何",
    "什么",
    "啥",
    "哪个",
    "哪些",
    "多少",
    "几",
    "吗？",
    "请问",
    "一下",
    "这个",
    "那个",
    "这",
    "那",
    "对",
    "给",
    "把",
    "被",
    "让",
    "从",
    "到",
    "为",
    "为了",
    "去",
    "来",
    "拿",
    "领",
    "申请",
    "获得",
    "得到",
    "享受",
    "有没有",
    "没有",
    "不",
    "没",
    "刚",
    "刚刚",
    "现在",
    "已经",
    "如果",
    "的话",
    "因为",
    "所以",
    "但是",
    "可是",
    "还有",
    "另外",
    "一个",
    "个",
    "些",
    "里",
    "上",
    "下",
    "中",
    "多",
    "少",
    "大概",
    "大约",
    "左右",
    "最多",
    "最高",
    "政策",
    "深圳",
    "深圳市",
    "请",
    "谢谢",
    "您好",
    "你好",
    "知道",
    "告诉",
    "问",
    "问题",
    "情况",
    "需要",
    "应该",
    "得",
    "着",
    "过",
    "呗",
    "哦",
    "嗯",
    "吗?",
    "么样",
    "样",
    "多少钱",
    "什么意思",
    "意思",
    "怎么办",
    "怎么弄",
    "弄",
    "找谁",
    "谁",
    "有人",
    "帮忙",
    "帮助",
    "支持",
    "扶持",
    "哪里",
    "去哪里",
    "哪儿",
    "办",
    "是不是",
    "真的",
    "是真的吗",
    "以后",
    "之后",
    "一共",
    "总共",
    "能拿",
    "可以拿",
    "领钱",
    "拿钱",
    "有啥",
    "什么样",
    "有什么",
    "能领",
    "能住",
    "一点",
    "大一点",
    "相关",
    "关于",
    "咱们",
];

/// English stop words after stemming: the analyser has stemmed them already.
const EN_STOP_STEMMED: &[&str] = &[
    "a", "an", "the", "i", "im", "me", "my", "mine", "we", "our", "you", "your", "he", "she", "it",
    "this", "it'", "they", "them", "their", "is", "am", "are", "was", "were", "be", "been",
    "being", "do", "doe", "did", "done", "have", "has", "had", "can", "could", "will", "would",
    "shall", "should", "may", "might", "must", "what", "which", "who", "whom", "whose", "how",
    "much", "mani", "mani", "when", "where", "whi", "whether", "if", "then", "so", "and", "or",
    "but", "of", "to", "in", "on", "at", "for", "from", "by", "with", "about", "as", "into",
    "than", "there", "here", "thi", "that", "these", "those", "ani", "some", "get", "got", "give",
    "just", "also", "too", "veri", "realli", "pleas", "thank", "thanks", "hi", "hello", "know",
    "tell", "want", "need", "like", "wonder", "question", "ask", "anyth", "someth", "there'",
    "not", "no", "don't", "dont", "cant", "can't", "i'm", "i'v", "ive", "shenzhen", "polici",
    "now", "still", "up", "out", "off", "over", "under", "again", "onli", "all", "both", "each",
    "more", "most", "other", "such", "own", "same", "s", "t", "d", "ll", "m", "ve", "re", "y", "u",
    "plz", "pls", "wanna", "gonna", "kind", "sort", "way", "thing", "stuff", "lot", "receiv",
    "eligibl", "qualifi", "entitl", "appli", "applic", "avail", "offer", "provid", "support",
    "count", "worth", "citi", "help", "anyon", "someon", "find", "go", "let", "becom", "exact",
    "exactli",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_questions_lose_their_framing_words() {
        let analysis = Analysis::new(["训力券", "小微企业"]);
        let mut a = analysis.analyzer(Script::Han);
        let t = terms(
            &mut a,
            Script::Han,
            "我刚硕士毕业，来深圳创业能拿多少补贴？",
        );
        assert!(t.contains(&"硕士".to_owned()), "{t:?}");
        assert_eq!(
            analysis.units(Script::Han, "小微企业创业贷款额度"),
            ["小微企业", "创业", "贷款额度"]
        );
        assert_eq!(analysis.units(Script::Han, "训力券最高多少"), ["训力券"]);
        assert!(t.contains(&"补贴".to_owned()), "{t:?}");
        assert!(
            !t.iter().any(|w| w == "我" || w == "多少" || w == "，"),
            "{t:?}"
        );
    }

    #[test]
    fn english_terms_are_stemmed_and_framing_dropped() {
        let mut a = Analysis::new([]).analyzer(Script::Latin);
        let t = terms(
            &mut a,
            Script::Latin,
            "How can I get the housing subsidies?",
        );
        assert_eq!(t, ["hous", "subsidi"]);
    }

    #[test]
    fn the_script_follows_any_chinese_character() {
        assert_eq!(Script::of("OPC社区 where"), Script::Han);
        assert_eq!(Script::of("OPC community"), Script::Latin);
    }
}
