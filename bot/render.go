package bot

import (
	"net/url"
	"strings"

	"huimin/bot/wechat"
	"huimin/chat"
)

// menuLink starts a tappable menu line. WeChat shows a link with this
// scheme in a text message (passive reply or customer-service text) as a
// tappable line; tapping sends msgmenucontent as the person's text, with
// bizmsgmenuid set to msgmenuid.
const menuLink = `<a href="weixin://bizmsgmenu?msgmenucontent=`

// RenderWeChat renders a reply for WeChat, the same for a passive reply and
// a customer-service text: a menu's options become numbered lines, each a
// menu link (weixin://bizmsgmenu) whose content is its number, so that
// typing the digit and tapping the line both answer it. Every menu fits
// WeChat's 2048 bytes: when the links would pass it, the first options keep
// theirs and the rest are plain numbered lines; when even plain lines would,
// the last options are left out. A cut falls between options, never inside
// a link or an option.
func RenderWeChat(r chat.Reply) string {
	return renderMenu(r, true, wechat.MaxTextBytes)
}

// RenderText renders a reply as plain text (WeCom, which has no menu
// links): a menu's options become numbered lines that can be answered with
// one digit, cut between options to the same 2048 bytes.
func RenderText(r chat.Reply) string {
	return renderMenu(r, false, wechat.MaxTextBytes)
}

// renderMenu lays out a menu in at most max bytes: head, one line per
// option, tail. Plain lines come first in the budget, so that every option
// that can be listed is; the bytes left over then make options tappable,
// from the first, while they last.
func renderMenu(r chat.Reply, links bool, max int) string {
	if r.Kind != chat.ReplyMenu || len(r.Options) == 0 {
		return r.Text
	}
	head, tail := "", r.Tail
	if r.Text != "" {
		head = r.Text + "\n"
	}
	size := len(head) + len(tail)
	if size > max { // a head alone past the limit: the cutter's job
		return chat.CutBytes(strings.TrimRight(head+tail, "\n"), max)
	}
	// Plain lines, as many as fit: "\n" ends each, and without a tail the
	// last one's is trimmed.
	trimmed := 0
	if tail == "" {
		trimmed = 1
	}
	n := 0
	for _, o := range r.Options {
		line := len(o.ID) + len(". ") + len(o.Text) + 1
		if size+line-trimmed > max {
			break
		}
		size += line
		n++
	}
	if size > 0 {
		size -= trimmed
	}
	// Links on the first options while the bytes last.
	linked := 0
	for links && linked < n {
		extra := linkOverhead(r.Options[linked].ID)
		if size+extra > max {
			break
		}
		size += extra
		linked++
	}
	var b strings.Builder
	b.Grow(size + 1)
	b.WriteString(head)
	for i, o := range r.Options[:n] {
		if i < linked {
			id := url.QueryEscape(o.ID)
			b.WriteString(menuLink)
			b.WriteString(id)
			b.WriteString("&msgmenuid=")
			b.WriteString(id)
			b.WriteString(`">`)
		}
		b.WriteString(o.ID)
		b.WriteString(". ")
		b.WriteString(o.Text)
		if i < linked {
			b.WriteString("</a>")
		}
		b.WriteString("\n")
	}
	b.WriteString(tail)
	return strings.TrimRight(b.String(), "\n")
}

// linkOverhead is how many bytes the link around an option adds.
func linkOverhead(id string) int {
	q := len(url.QueryEscape(id))
	return len(menuLink) + q + len("&msgmenuid=") + q + len(`">`) + len("</a>")
}
