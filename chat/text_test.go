package chat

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCut gives exact results of both measures, Cut in runes and
// CutBytes in bytes, on multi-byte text, short inputs and tiny limits.
func TestCut(t *testing.T) {
	tests := []struct {
		name  string
		cut   func(string, int) string
		in    string
		limit int
		want  string
	}{
		{"Cut/empty", Cut, "", 3, ""},
		{"Cut/shorter", Cut, "你好", 3, "你好"},
		{"Cut/exactly n", Cut, "你好", 2, "你好"},
		{"Cut/one over", Cut, "你好吗", 2, "你…"},
		{"Cut/chinese", Cut, "家里老人生病了需要帮助", 6, "家里老人生…"},
		{"Cut/ascii", Cut, "abcdef", 4, "abc…"},
		{"Cut/mixed widths", Cut, "a你😀b", 3, "a你…"},
		{"Cut/emoji", Cut, "😀😀😀", 2, "😀…"},
		{"Cut/ellipsis alone fits", Cut, "abc", 1, "…"},
		{"Cut/nothing fits", Cut, "abc", 0, ""},
		{"Cut/empty, nothing fits", Cut, "", 0, ""},
		{"Cut/negative", Cut, "abc", -1, ""},
		{"CutBytes/empty", CutBytes, "", 10, ""},
		{"CutBytes/shorter", CutBytes, "你好", 10, "你好"},
		{"CutBytes/exactly max", CutBytes, "你好", 6, "你好"},
		{"CutBytes/one byte over", CutBytes, "你好", 5, "…"},
		{"CutBytes/ellipsis after whole runes", CutBytes, "你好吗", 8, "你…"},
		{"CutBytes/never inside a rune", CutBytes, "你好吗", 7, "你…"},
		{"CutBytes/ascii", CutBytes, "abcdef", 5, "ab…"},
		{"CutBytes/ascii then chinese", CutBytes, "ab你好", 7, "ab…"},
		{"CutBytes/four-byte runes", CutBytes, "😀😀😀", 10, "😀…"},
		{"CutBytes/ellipsis alone fits", CutBytes, "你好", 3, "…"},
		{"CutBytes/tiny limit", CutBytes, "你好", 2, ""},
		{"CutBytes/nothing fits", CutBytes, "abc", 0, ""},
		{"CutBytes/invalid UTF-8 kept byte by byte", CutBytes, "a\xffbcde", 5, "a\xff…"},
		{"CutBytes/wechat passive reply", CutBytes, strings.Repeat("民政服务", 300), 2048, strings.Repeat("民政服务", 170) + "民…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cut(tt.in, tt.limit); got != tt.want {
				t.Errorf("%q, %d: got %q, want %q", tt.in, tt.limit, got, tt.want)
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
				{"Cut/Cut", Cut, utf8.RuneCountInString},
				{"CutBytes/CutBytes", CutBytes, func(s string) int { return len(s) }},
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

func TestMaskNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"电话13812345678，谢谢":      "电话138****5678，谢谢",
		"身份证11010119900101123X": "身份证110101********123X",
		"身份证110101199001011234": "身份证110101********1234",
		"座机0755-12345678":       "座机0755-12****78",
		"3号楼502室，2026年":         "3号楼502室，2026年",
		"":                      "",
		"没有数字":                  "没有数字",
	} {
		if got := MaskNumbers(in); got != want {
			t.Errorf("MaskNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}
