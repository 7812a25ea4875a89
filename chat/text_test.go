package chat

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"你好", 2, "你好"},
		{"你好吗", 2, "你好…"},
		{"abc", 0, "…"},
		{"😀😀😀", 1, "😀…"},
		{"家里老人生病", 6, "家里老人生病"},
	}
	for _, tt := range tests {
		if got := Cut(tt.in, tt.n); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestCutBytes(t *testing.T) {
	long := strings.Repeat("民政服务", 300)
	tests := []struct {
		name string
		in   string
		max  int
	}{
		{"short", "你好", 2048},
		{"chinese", long, 2048},
		{"mixed", "a" + long, 2048},
		{"emoji", strings.Repeat("😀", 600), 2048},
		{"tiny limit", "你好", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CutBytes(tt.in, tt.max)
			if len(got) > tt.max && len(got) > len(ellipsis) {
				t.Errorf("len = %d, want <= %d", len(got), tt.max)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result %q is not valid UTF-8", got)
			}
			if len(tt.in) <= tt.max && got != tt.in {
				t.Errorf("short text changed: %q", got)
			}
			if len(tt.in) > tt.max && !strings.HasSuffix(got, ellipsis) {
				t.Errorf("cut text %q has no ellipsis", got)
			}
		})
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
