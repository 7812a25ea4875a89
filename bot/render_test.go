package bot

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"huimin/bot/wechat"
	"huimin/chat"
)

// menuLine is one rendered option: linked or plain, whole.
var menuLine = regexp.MustCompile(`^(?:<a href="weixin://bizmsgmenu\?msgmenucontent=(\d+)&msgmenuid=(\d+)">(\d+)\. (.*)</a>|(\d+)\. (.*))$`)

// TestLongMenuCutBetweenOptions checks menus near and past WeChat's 2048
// bytes: the result fits, every option line is whole (a link is never cut),
// the options kept are the first ones in order, every option is kept while
// plain lines fit, links go on the first options, and the tail stays.
func TestLongMenuCutBetweenOptions(t *testing.T) {
	menu := func(n, width int, tail string) chat.Reply {
		r := chat.Reply{Kind: chat.ReplyMenu, Text: "请回复数字：", Tail: tail}
		for i := range n {
			r.Options = append(r.Options, chat.Option{ID: strconv.Itoa(i + 1), Text: strings.Repeat("长", width)})
		}
		return r
	}
	tests := []struct {
		name      string
		r         chat.Reply
		wantAll   bool // every option listed
		wantLinks string
	}{
		{"short: all linked", menu(9, 6, "回复“人工”找工作人员。"), true, "all"},
		{"links pass the limit: first linked, rest plain", menu(30, 12, "回复“人工”找工作人员。"), true, "some"},
		{"plain lines pass the limit: cut between options", menu(80, 12, "回复“人工”找工作人员。"), false, "none"},
		{"no tail", menu(80, 12, ""), false, "none"},
	}
	for w := 1; w <= 40; w += 3 { // sweep around the limit
		tests = append(tests, struct {
			name      string
			r         chat.Reply
			wantAll   bool
			wantLinks string
		}{"sweep width " + strconv.Itoa(w), menu(45, w, "尾"), false, ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, render := range []struct {
				name  string
				f     func(chat.Reply) string
				links bool
			}{{"RenderWeChat", RenderWeChat, true}, {"RenderText", RenderText, false}} {
				got := render.f(tt.r)
				if len(got) > wechat.MaxTextBytes || !utf8.ValidString(got) {
					t.Fatalf("%s: %d bytes (valid UTF-8 %v), want at most %d", render.name, len(got), utf8.ValidString(got), wechat.MaxTextBytes)
				}
				lines := strings.Split(got, "\n")
				if lines[0] != tt.r.Text {
					t.Errorf("%s: head = %q, want %q", render.name, lines[0], tt.r.Text)
				}
				body := lines[1:]
				if tt.r.Tail != "" {
					if last := body[len(body)-1]; last != tt.r.Tail {
						t.Errorf("%s: last line = %q, want the tail %q", render.name, last, tt.r.Tail)
					}
					body = body[:len(body)-1]
				}
				linked, plainSeen := 0, false
				for i, l := range body {
					m := menuLine.FindStringSubmatch(l)
					if m == nil {
						t.Fatalf("%s: line %d %q is not a whole option", render.name, i, l)
					}
					want := strconv.Itoa(i + 1)
					if m[1] != "" {
						if plainSeen || m[1] != want || m[2] != want || m[3] != want {
							t.Errorf("%s: linked line %q out of order or not sending its number", render.name, l)
						}
						linked++
					} else {
						plainSeen = true
						if m[5] != want {
							t.Errorf("%s: line %q, want option %s", render.name, l, want)
						}
					}
				}
				if !render.links && linked > 0 {
					t.Errorf("%s: %d links, want none", render.name, linked)
				}
				if tt.wantAll && len(body) != len(tt.r.Options) {
					t.Errorf("%s: %d options listed, want all %d", render.name, len(body), len(tt.r.Options))
				}
				if !tt.wantAll && len(body) < len(tt.r.Options) {
					// Cut: the next option would not have fitted.
					next := len(tt.r.Options[len(body)].Text) + len(tt.r.Options[len(body)].ID) + 3
					if len(got)+next <= wechat.MaxTextBytes {
						t.Errorf("%s: option %d left out though it fits", render.name, len(body)+1)
					}
				}
				if render.links {
					switch tt.wantLinks {
					case "all":
						if linked != len(body) {
							t.Errorf("%s: %d of %d options linked, want all", render.name, linked, len(body))
						}
					case "some":
						if linked == 0 || linked == len(body) {
							t.Errorf("%s: %d of %d options linked, want the first ones", render.name, linked, len(body))
						}
					case "none":
						if linked != 0 {
							t.Errorf("%s: %d options linked, want none: the bytes go to listing options", render.name, linked)
						}
					}
					if linked < len(body) {
						if extra := linkOverhead(strconv.Itoa(linked + 1)); len(got)+extra <= wechat.MaxTextBytes {
							t.Errorf("%s: option %d left plain though its link fits", render.name, linked+1)
						}
					}
				}
			}
		})
	}
}
