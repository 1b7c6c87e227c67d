//! A decision letter as PDF: A4 pages of text blocks, set in STSong-Light,
//! one of the PDF standard CJK fonts (Adobe-GB1), which PDF readers supply
//! themselves. Nothing is embedded: the platform ships no font file and a
//! letter stays a few kilobytes. Characters are encoded `UniGB-UCS2-H`
//! (UTF-16 code units of the Basic Multilingual Plane; a character beyond
//! it, rare in names, is written as `?`), and a `ToUnicode` map lets
//! readers copy, search and extract the text.
//!
//! Lines are broken by measured width: Latin letters by the font's
//! proportional widths (words kept whole where they fit), everything else
//! one em. The text is the same the printable page shows.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::BTreeSet;

/// How a block is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The issuing body, above the title.
    Issuer,
    Title,
    /// Reference, date, addressee.
    Meta,
    Body,
    /// An item of a list, indented with a bullet.
    Item,
    /// Small print at the end.
    Note,
}

impl Style {
    /// Font size and the space above the block, in points.
    fn metrics(self) -> (f32, f32) {
        match self {
            Style::Issuer => (11.0, 0.0),
            Style::Title => (20.0, 14.0),
            Style::Meta => (10.5, 4.0),
            Style::Body => (11.5, 10.0),
            Style::Item => (11.5, 3.0),
            Style::Note => (9.0, 18.0),
        }
    }
}

/// A paragraph of the letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub style: Style,
    pub text: String,
}

const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 64.0;
const LEADING: f32 = 1.55;
const FONT: Name<'static> = Name(b"STSong-Light");

/// Widths (per mille of the size) of STSong-Light's half-width Latin
/// glyphs, CIDs 1–95, which `UniGB-UCS2-H` gives U+0020–U+007E.
const LATIN_WIDTHS: [u16; 95] = [
    207, 270, 342, 467, 462, 797, 710, 239, 374, 374, 423, 605, 238, 375, 238, 334, 462, 462, 462,
    462, 462, 462, 462, 462, 462, 462, 238, 238, 605, 605, 605, 344, 748, 684, 560, 695, 739, 563,
    511, 729, 793, 318, 312, 666, 526, 896, 758, 772, 544, 772, 628, 465, 607, 753, 711, 972, 647,
    620, 607, 374, 333, 374, 606, 500, 239, 417, 503, 427, 529, 415, 264, 444, 518, 241, 230, 495,
    228, 793, 527, 524, 524, 504, 338, 336, 277, 517, 450, 652, 466, 452, 407, 370, 258, 370, 605,
];

/// The character as the font can set it.
fn settable(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => ' ',
        c if u32::from(c) > 0xFFFF || c.is_control() => '?',
        c => c,
    }
}

/// Width of `c` at `size` points.
fn width(c: char, size: f32) -> f32 {
    let per_mille = match u32::from(c) {
        code @ 0x20..=0x7E => f32::from(LATIN_WIDTHS[(code - 0x20) as usize]),
        _ => 1000.0,
    };
    per_mille * size / 1000.0
}

/// `text` broken into lines no wider than `max` at `size`: at spaces where
/// a Latin word fits, else between any two characters.
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_width = 0.0;
    for word in words(text) {
        let word_width: f32 = word.chars().map(|c| width(c, size)).sum();
        if line_width + word_width > max && !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
            line.clear();
            line_width = 0.0;
        }
        let word = if line.is_empty() {
            word.trim_start()
        } else {
            &word
        };
        for c in word.chars() {
            let w = width(c, size);
            if line_width + w > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            line.push(c);
            line_width += w;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// Pieces that stay together on a line: a run of Latin letters with the
/// space before it, or one other character.
fn words(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for c in text.chars().map(settable) {
        let latin = c.is_ascii() && c != ' ';
        match pieces.last_mut() {
            Some(last) if latin && last.chars().last().is_some_and(|p| p.is_ascii()) => {
                last.push(c)
            }
            _ => pieces.push(c.to_string()),
        }
    }
    pieces
}

/// The text's UCS-2 code units, big-endian, as the encoding wants them.
fn encoded(line: &str) -> Vec<u8> {
    line.chars()
        .flat_map(|c| (u32::from(c) as u16).to_be_bytes())
        .collect()
}

/// A line placed on a page.
struct Placed {
    size: f32,
    x: f32,
    y: f32,
    text: String,
}

/// Lays the blocks out on as many pages as they take.
fn layout(blocks: &[Block]) -> Vec<Vec<Placed>> {
    let mut pages = vec![Vec::new()];
    let mut y = PAGE.1 - MARGIN;
    for block in blocks {
        let (size, above) = block.style.metrics();
        let indent = if block.style == Style::Item {
            16.0
        } else {
            0.0
        };
        let text = if block.style == Style::Item {
            format!("• {}", block.text)
        } else {
            block.text.clone()
        };
        y -= above;
        for (i, line) in wrap(&text, size, PAGE.0 - 2.0 * MARGIN - indent)
            .into_iter()
            .enumerate()
        {
            y -= size * LEADING;
            if y < MARGIN {
                pages.push(Vec::new());
                y = PAGE.1 - MARGIN - size * LEADING;
            }
            let hang = if block.style == Style::Item && i > 0 {
                width('•', size) + width(' ', size)
            } else {
                0.0
            };
            pages.last_mut().expect("one page at least").push(Placed {
                size,
                x: MARGIN + indent + hang,
                y,
                text: line,
            });
        }
    }
    pages
}

/// The letter as a PDF document titled `title`.
pub fn render(title: &str, blocks: &[Block]) -> Vec<u8> {
    let pages = layout(blocks);
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut id = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let (catalog, tree, font, cid_font, descriptor, cmap, info) =
        (id(), id(), id(), id(), id(), id(), id());
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (id(), id())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(page_ids.len() as i32);
    for (lines, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1))
            .parent(tree)
            .contents(*content_id);
        page.resources().fonts().pair(Name(b"F1"), font);
        page.finish();
        let mut content = Content::new();
        for line in lines {
            content
                .begin_text()
                .set_font(Name(b"F1"), line.size)
                .next_line(line.x, line.y)
                .show(Str(&encoded(&line.text)))
                .end_text();
        }
        pdf.stream(*content_id, &content.finish());
    }
    write_font(&mut pdf, (font, cid_font, descriptor, cmap), &pages);
    pdf.document_info(info)
        .title(TextStr(title))
        .creator(TextStr("opcity"));
    pdf.finish()
}

fn gb1() -> SystemInfo<'static> {
    SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"GB1"),
        supplement: 2,
    }
}

/// The Type0 font over STSong-Light, with the `ToUnicode` map of the
/// characters the pages use.
fn write_font(
    pdf: &mut Pdf,
    (font, cid_font, descriptor, cmap): (Ref, Ref, Ref, Ref),
    pages: &[Vec<Placed>],
) {
    pdf.type0_font(font)
        .base_font(FONT)
        .encoding_predefined(Name(b"UniGB-UCS2-H"))
        .descendant_font(cid_font)
        .to_unicode(cmap);
    let mut cid = pdf.cid_font(cid_font);
    cid.subtype(CidFontType::Type0)
        .base_font(FONT)
        .system_info(gb1())
        .font_descriptor(descriptor)
        .default_width(1000.0);
    cid.widths()
        .consecutive(1, LATIN_WIDTHS.iter().map(|w| f32::from(*w)));
    cid.finish();
    pdf.font_descriptor(descriptor)
        .name(FONT)
        .flags(FontFlags::SERIF | FontFlags::SYMBOLIC)
        .bbox(Rect::new(-25.0, -254.0, 1000.0, 880.0))
        .italic_angle(0.0)
        .ascent(880.0)
        .descent(-120.0)
        .cap_height(880.0)
        .stem_v(93.0);
    let used: BTreeSet<char> = pages
        .iter()
        .flatten()
        .flat_map(|line| line.text.chars())
        .collect();
    let mut map = UnicodeCmap::new(Name(b"Adobe-GB1-UCS2"), gb1());
    for c in used {
        map.pair(u32::from(c) as u16, c);
    }
    pdf.cmap(cmap, &map.finish());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_words_stay_whole_and_cjk_breaks_anywhere() {
        let lines = wrap(
            "The lease is not in Shenzhen and cannot count.",
            11.5,
            120.0,
        );
        assert!(lines.len() > 1);
        for line in &lines {
            let w: f32 = line.chars().map(|c| width(c, 11.5)).sum();
            assert!(w <= 120.0, "{line:?} is {w} wide");
        }
        let words: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
        assert_eq!(
            words.join(" "),
            "The lease is not in Shenzhen and cannot count."
        );
        let zh = wrap(&"深".repeat(40), 10.0, 100.0);
        assert_eq!(zh.len(), 4);
        assert!(zh.iter().all(|l| l.chars().count() == 10));
    }

    #[test]
    fn a_long_letter_takes_more_pages() {
        let blocks: Vec<Block> = (0..120)
            .map(|i| Block {
                style: Style::Body,
                text: format!("段落 {i}"),
            })
            .collect();
        assert!(layout(&blocks).len() > 1);
        let pdf = render("t", &blocks);
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn characters_beyond_the_plane_are_replaced() {
        assert_eq!(encoded(&words("a😀b").concat()), encoded("a?b"));
    }
}
