package chat

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"empty", "", 3, ""},
		{"shorter", "你好", 3, "你好"},
		{"exactly n", "你好", 2, "你好"},
		{"one over", "你好吗", 2, "你…"},
		{"chinese", "家里老人生病了需要帮助", 6, "家里老人生…"},
		{"ascii", "abcdef", 4, "abc…"},
		{"mixed widths", "a你😀b", 3, "a你…"},
		{"emoji", "😀😀😀", 2, "😀…"},
		{"ellipsis alone fits", "abc", 1, "…"},
		{"nothing fits", "abc", 0, ""},
		{"empty, nothing fits", "", 0, ""},
		{"negative", "abc", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cut(tt.in, tt.n); got != tt.want {
				t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestCutBytes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"empty", "", 10, ""},
		{"shorter", "你好", 10, "你好"},
		{"exactly max", "你好", 6, "你好"},
		{"one byte over", "你好", 5, "…"},
		{"ellipsis after whole runes", "你好吗", 8, "你…"},
		{"never inside a rune", "你好吗", 7, "你…"},
		{"ascii", "abcdef", 5, "ab…"},
		{"ascii then chinese", "ab你好", 7, "ab…"},
		{"four-byte runes", "😀😀😀", 10, "😀…"},
		{"ellipsis alone fits", "你好", 3, "…"},
		{"tiny limit", "你好", 2, ""},
		{"nothing fits", "abc", 0, ""},
		{"invalid UTF-8 kept byte by byte", "a\xffbcde", 5, "a\xff…"},
		{"wechat passive reply", strings.Repeat("民政服务", 300), 2048, strings.Repeat("民政服务", 170) + "民…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CutBytes(tt.in, tt.max); got != tt.want {
				t.Errorf("CutBytes(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// TestCutLimits checks, for every limit up to past the text's length, that
// the result fits, is whole runes of the text and is the longest that fits.
func TestCutLimits(t *testing.T) {
	for _, s := range []string{"abc", "你好吗", "a你😀b", "😀😀", "办结 MZ20261130-0001 已按政策发放"} {
		for limit := 0; limit <= len(s)+1; limit++ {
			for _, c := range []struct {
				name string
				cut  func(string, int) string
				size func(string) int
			}{
				{"Cut", Cut, utf8.RuneCountInString},
				{"CutBytes", CutBytes, func(s string) int { return len(s) }},
			} {
				got := c.cut(s, limit)
				if c.size(got) > limit {
					t.Errorf("%s(%q, %d) = %q: size %d, want <= %d", c.name, s, limit, got, c.size(got), limit)
				}
				if !utf8.ValidString(got) {
					t.Errorf("%s(%q, %d) = %q, want valid UTF-8", c.name, s, limit, got)
				}
				if got == s {
					continue
				}
				kept := strings.TrimSuffix(got, ellipsis)
				if !strings.HasPrefix(s, kept) || (got != "" && kept == got) {
					t.Errorf("%s(%q, %d) = %q, want a prefix of the text and \"…\"", c.name, s, limit, got)
				}
				if r, size := utf8.DecodeRuneInString(s[len(kept):]); got != "" && c.size(kept+string(r)+ellipsis) <= limit {
					t.Errorf("%s(%q, %d) = %q, want %q too (%d bytes more)", c.name, s, limit, got, string(r), size)
				}
			}
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13812345678", "138****5678"},
		{"+86 138 1234 5678", "138****5678"},
		{"138-1234-5678", "138****5678"},
		{"1234567", "*******"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"440308199001011239", "440308********1239"},
		{"11010519491231002x", "110105********002X"},
		{"44030819900101123X", "440308********123X"},
		{"1234567890", "**********"},
		{"12345678901", "123456*8901"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskID(tt.in); got != tt.want {
			t.Errorf("MaskID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
