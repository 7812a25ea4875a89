package chat

import (
	"strings"
	"unicode/utf8"
)

// ellipsis marks a cut text.
const ellipsis = "…"

// Cut shortens s to at most n characters (runes), the last of them "…"
// when it had to cut: for what people read, such as a summary on a card,
// and for limits counted in characters, such as a WeCom button's 4.
func Cut(s string, n int) string {
	return cut(s, n, func(_, runes int) int { return runes })
}

// CutBytes shortens s to at most max bytes without splitting a UTF-8
// sequence, the last three of them "…" when it had to cut: for limits
// WeChat counts in bytes, such as a passive reply's 2048.
func CutBytes(s string, max int) string {
	return cut(s, max, func(bytes, _ int) int { return bytes })
}

// cut is Cut and CutBytes, which differ only in how they measure a text:
// size gives its size from its length in bytes and in runes. A text that
// fits in limit is returned as it is; otherwise the longest prefix that
// still fits with "…" after it, ending on a rune boundary (nothing at all
// when not even "…" fits).
func cut(s string, limit int, size func(bytes, runes int) int) string {
	if size(len(s), utf8.RuneCountInString(s)) <= limit {
		return s
	}
	room := limit - size(len(ellipsis), utf8.RuneCountInString(ellipsis))
	if room < 0 {
		return ""
	}
	end, runes := 0, 0
	for i := range s { // i: where each rune starts, so s[:i] is whole runes
		if size(i, runes) > room {
			break
		}
		end = i
		runes++
	}
	return s[:end] + ellipsis
}

// MaskPhone shows a phone number as its first 3 and last 4 digits
// (138****5678), wherever it is shown or logged to someone who does not
// need it in full. Spaces, dashes and a +86 prefix are dropped first.
func MaskPhone(p string) string {
	var digits strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	d := digits.String()
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	return maskMiddle(d, 3, 4)
}

// MaskID shows a resident ID number as its first 6 and last 4 characters
// (440308********1234).
func MaskID(id string) string {
	return maskMiddle(strings.ToUpper(strings.TrimSpace(id)), 6, 4)
}

// MaskNumbers masks the numbers inside free text (a comment, a note) that
// may be a phone or ID number: every run of 7 or more digits (an ID's
// final X included) is shown as MaskID shows an ID (15 or 18 long), as
// MaskPhone shows a phone (11), or with its first and last 2 kept.
func MaskNumbers(text string) string {
	var b strings.Builder
	r := []rune(text)
	for i := 0; i < len(r); {
		j := i
		for j < len(r) && (r[j] >= '0' && r[j] <= '9' || j > i && j-i == 17 && (r[j] == 'X' || r[j] == 'x')) {
			j++
		}
		if j == i {
			b.WriteRune(r[i])
			i++
			continue
		}
		run := string(r[i:j])
		switch n := j - i; {
		case n == 15 || n == 18:
			b.WriteString(MaskID(run))
		case n == 11:
			b.WriteString(MaskPhone(run))
		case n >= 7:
			b.WriteString(maskMiddle(run, 2, 2))
		default:
			b.WriteString(run)
		}
		i = j
	}
	return b.String()
}

// maskMiddle keeps head and tail runes and stars the rest; a value too
// short to keep anything is starred whole.
func maskMiddle(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}
