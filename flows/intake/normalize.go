package intake

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// halfWidth turns full-width ASCII (１２３，ＡＢＣ，＋) and the ideographic
// space into their ordinary forms, and drops the emoji presentation selector
// and the keycap mark, so that 1️⃣ reads as 1.
func halfWidth(s string) string {
	return strings.Map(halfWidthRune, s)
}

func halfWidthRune(r rune) rune {
	switch {
	case r < utf8.RuneSelf:
		return r
	case r >= '！' && r <= '～':
		return r - '！' + '!'
	case r == '　':
		return ' '
	case r == '\uFE0F' || r == '\u20E3' || r == '\u200B':
		return -1
	}
	return r
}

// fold is halfWidth and strings.ToLower in one pass, quick on the Chinese
// text that makes up most messages (CJK characters have no case).
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= utf8.RuneSelf {
			if r >= '\u3040' && r <= '\u9FFF' { // kana and CJK ideographs
				return r
			}
			if r = halfWidthRune(r); r < utf8.RuneSelf {
				if r >= 'A' && r <= 'Z' {
					r += 'a' - 'A'
				}
				return r
			}
			return unicode.ToLower(r)
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}, s)
}

// trailing is what voice recognition and habit put after an answer.
const trailing = " \t\r\n。.！!？?，,~～…、；;"

// clean is the form of an answer used for matching commands and choices:
// half-width, trimmed, without trailing punctuation, lower-case.
func clean(s string) string {
	s = strings.TrimSpace(fold(s))
	if t := strings.TrimRight(s, trailing); t != "" {
		s = strings.TrimSpace(t)
	}
	return s
}

// cnDigit is the value of a Chinese numeral digit (and of 幺, as in phone
// numbers read aloud).
func cnDigit(r rune) (int, bool) {
	switch r {
	case '零', '〇', '○':
		return 0, true
	case '一', '壹', '幺':
		return 1, true
	case '二', '贰', '两':
		return 2, true
	case '三', '叁':
		return 3, true
	case '四', '肆':
		return 4, true
	case '五', '伍':
		return 5, true
	case '六', '陆':
		return 6, true
	case '七', '柒':
		return 7, true
	case '八', '捌':
		return 8, true
	case '九', '玖':
		return 9, true
	}
	return 0, false
}

func isCNNumeral(r rune) bool {
	_, ok := cnDigit(r)
	return ok || r == '十' || r == '拾' || r == '百' || r == '佰'
}

// cnNumerals rewrites every run of Chinese numerals as Arabic digits: runs
// with 十 or 百 are read as a number (二十八 → 28), others digit by digit
// (二零二六 → 2026, 一三八 → 138).
func cnNumerals(s string) string {
	if !strings.ContainsFunc(s, isCNNumeral) {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if !isCNNumeral(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		j := i
		for j < len(rs) && isCNNumeral(rs[j]) {
			j++
		}
		b.WriteString(readNumeral(rs[i:j]))
		i = j
	}
	return b.String()
}

func readNumeral(run []rune) string {
	positional := false
	for _, r := range run {
		if r == '十' || r == '拾' || r == '百' || r == '佰' {
			positional = true
		}
	}
	if !positional {
		var b strings.Builder
		for _, r := range run {
			d, _ := cnDigit(r)
			b.WriteByte(byte('0' + d))
		}
		return b.String()
	}
	total, cur := 0, -1
	for _, r := range run {
		switch r {
		case '十', '拾':
			total += max(cur, 1) * 10
			cur = -1
		case '百', '佰':
			total += max(cur, 1) * 100
			cur = -1
		default:
			if d, _ := cnDigit(r); d != 0 {
				cur = d
			}
		}
	}
	return strconv.Itoa(total + max(cur, 0))
}

// wechatEmoji are WeChat's built-in expressions as they arrive in text:
// [微笑], [Smile], /::) and the like.
var wechatEmoji = regexp.MustCompile(`\[[^\[\]\s]{1,8}\]|/:[^\s/]{1,6}`)

// meaningful reports whether s says anything in words or digits, rather
// than only emoji, symbols, punctuation or WeChat expressions.
func meaningful(s string) bool {
	s = halfWidth(s)
	if strings.Contains(s, "[") || strings.Contains(s, "/:") {
		s = wechatEmoji.ReplaceAllString(s, "")
	}
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
}

// ordinal reads s as an option number, or returns 0: 2, 第2个, 选2, 2号,
// 二 (two digits at most).
func ordinal(s string) int {
	return ordinalCleaned(clean(s))
}

// ordinalCleaned is ordinal of a cleaned answer.
func ordinalCleaned(c string) int {
	t := cnNumerals(c)
	for _, p := range [...]string{"选择", "第", "选"} {
		if rest, ok := strings.CutPrefix(t, p); ok {
			t = rest
			break
		}
	}
	for _, p := range [...]string{"个", "项", "条", "号", "种"} {
		if rest, ok := strings.CutSuffix(t, p); ok {
			t = rest
			break
		}
	}
	if len(t) == 0 || len(t) > 2 {
		return 0
	}
	n := 0
	for i := range len(t) {
		if t[i] < '0' || t[i] > '9' {
			return 0
		}
		n = n*10 + int(t[i]-'0')
	}
	return n
}

// matchChoice finds which of the options (each given as the words that name
// it: label, value) the answer picks: its number, a name in full, or a
// unique prefix of a name. When lenient, it also accepts an answer that
// contains exactly one option's name (我要投诉) or that is contained in
// exactly one name (救助, two characters or more). It returns the option's
// index.
func matchChoice(answer string, names [][]string, lenient bool) (int, bool) {
	cleaned := make([][]string, len(names))
	for i, ns := range names {
		cleaned[i] = cleanNames(ns...)
	}
	return matchCleaned(answer, cleaned, lenient)
}

// cleanNames cleans the words that name one option, dropping empty ones.
func cleanNames(names ...string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n = clean(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// matchCleaned is matchChoice with the names cleaned beforehand. The tests
// go from strict to loose; the first that picks exactly one option wins,
// and one that picks several ends the search.
func matchCleaned(answer string, cleaned [][]string, lenient bool) (int, bool) {
	a := clean(answer)
	if n := ordinalCleaned(a); n >= 1 && n <= len(cleaned) {
		return n - 1, true
	}
	if a == "" || utf8.RuneCountInString(a) > 100 {
		return 0, false
	}
	tests := 2
	if lenient {
		tests = 4
	}
	for test := range tests {
		found := -1
		for i, ns := range cleaned {
			if !slices.ContainsFunc(ns, func(name string) bool { return picks(test, a, name) }) {
				continue
			}
			if found >= 0 {
				return 0, false // ambiguous: try no looser test
			}
			found = i
		}
		if found >= 0 {
			return found, true
		}
	}
	return 0, false
}

// picks applies matchCleaned's test number test to answer a and name.
func picks(test int, a, name string) bool {
	switch test {
	case 0:
		return a == name
	case 1:
		return strings.HasPrefix(name, a)
	case 2:
		return utf8.RuneCountInString(name) >= 2 && strings.Contains(a, name)
	default:
		return utf8.RuneCountInString(a) >= 2 && strings.Contains(name, a)
	}
}
