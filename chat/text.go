package chat

import (
	"strings"
	"unicode/utf8"
)

// ellipsis marks a cut text.
const ellipsis = "…"

// Cut shortens s to at most n characters (runes), ending with "…" when it
// had to cut: for what people read, such as a summary on a card.
func Cut(s string, n int) string {
	i := 0
	for range n {
		if i >= len(s) {
			return s
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + ellipsis
}

// CutBytes shortens s to at most max bytes without splitting a UTF-8
// sequence, ending with "…" when it had to cut: for limits WeChat counts
// in bytes, such as a passive reply's 2048.
func CutBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	end := max - len(ellipsis)
	if end < 0 {
		end = 0
	}
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
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

// maskMiddle keeps head and tail runes and stars the rest; a value too
// short to keep anything is starred whole.
func maskMiddle(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}
