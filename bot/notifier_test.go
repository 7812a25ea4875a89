package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"huimin/chat"
	"huimin/desk"
	"huimin/sim"
)

// awaitDelivery polls the notifier until the message has its end.
func awaitDelivery(t *testing.T, n *Notifier, m desk.Message) desk.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dl, err := n.Delivery(t.Context(), m)
		if err != nil {
			t.Fatal(err)
		}
		if dl.Done {
			return dl
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never ended", m.ID)
		}
		time.Sleep(20 * time.Millisecond) // polling the outbox's outcome
	}
}

// TestSurveyChannels sends a survey through the notifier and the outbox
// to the simulator and reads back the channel that delivered it: a
// msgmenu inside the 48-hour window; the survey template with the page's
// link after 45015; nothing without a template; a subscribe notice only
// where the citizen granted it.
func TestSurveyChannels(t *testing.T) {
	templates := map[string]TemplateSpec{
		"survey":        {ID: "tpl_survey", Fields: map[string]string{"first": "ticket", "remark": "text"}},
		"survey_notice": {ID: "tpl_notice", Fields: map[string]string{"thing1": "ticket"}},
	}
	r := newRig(t, rigOptions{templates: templates})
	n := NewNotifier(r.outbox, templates)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	survey := func(id, to string) desk.Message {
		return desk.Message{ID: id, Channel: chat.ChannelWeChat, To: to, Text: "【回访】请评价：",
			Options: []chat.Option{{ID: "1", Text: "非常满意"}, {ID: "2", Text: "满意"}}, Tail: "请回复数字1-5。",
			Template: "survey", URL: "https://huimin.test/survey/tok", Fields: map[string]string{"ticket": "MZ1", "text": "请评价"}}
	}
	for _, u := range []string{"oIn", "oOut", "oNotice"} {
		if _, err := r.sim.Send(ctx, sim.Message{OpenID: u, Type: "event", Event: "subscribe"}); err != nil {
			t.Fatal(err)
		}
	}

	in := survey("v:in", "oIn")
	if err := n.Notify(ctx, in); err != nil {
		t.Fatal(err)
	}
	if dl := awaitDelivery(t, n, in); dl.Channel != desk.ChannelChat {
		t.Errorf("inside the window: %+v, want chat", dl)
	}
	var menu *sim.Received
	for _, got := range r.sim.Received("oIn") {
		if got.MsgType == "msgmenu" {
			menu = &got
		}
	}
	if menu == nil || len(menu.Menu.List) != 2 || menu.Menu.List[1].Content != "满意" || !strings.Contains(menu.Menu.TailContent, "回复数字") {
		t.Fatalf("oIn received %+v, want the msgmenu with the levels and the tail", r.sim.Received("oIn"))
	}

	if err := r.sim.SetFault(sim.Fault{Kind: sim.FaultOutOfWindow, OpenID: "oOut"}); err != nil {
		t.Fatal(err)
	}
	out := survey("v:out", "oOut")
	if err := n.Notify(ctx, out); err != nil {
		t.Fatal(err)
	}
	if dl := awaitDelivery(t, n, out); dl.Channel != desk.ChannelTemplate {
		t.Errorf("after 45015: %+v, want template", dl)
	}
	var card *sim.TemplateCard
	for _, got := range r.sim.Received("oOut") {
		if got.Template != nil {
			card = got.Template
		}
	}
	if card == nil || card.TemplateID != "tpl_survey" || card.URL != "https://huimin.test/survey/tok" {
		t.Errorf("oOut's template = %+v, want the survey template linking to the page", card)
	}

	bare := NewNotifier(r.outbox, nil)
	none := survey("v:none", "oOut")
	if err := bare.Notify(ctx, none); err != nil {
		t.Fatal(err)
	}
	if dl := awaitDelivery(t, bare, none); dl.Channel != "" || !dl.OutOfWindow {
		t.Errorf("no template: %+v, want no channel, out of window (skipped, not failed)", dl)
	}

	notice := desk.Message{ID: "v:notice", Channel: chat.ChannelWeChat, To: "oNotice", Form: desk.FormNotice, Template: "survey_notice",
		URL: "https://huimin.test/survey/tok", Fields: map[string]string{"ticket": "MZ1"}}
	if err := n.Notify(ctx, notice); err != nil {
		t.Fatal(err)
	}
	if dl := awaitDelivery(t, n, notice); dl.Channel != "" || dl.OutOfWindow {
		t.Errorf("a notice the citizen never granted: %+v, want no channel, refused", dl)
	}
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oNotice", Type: "event", Event: "subscribe_msg_popup_event",
		Subscriptions: []sim.Subscription{{TemplateID: "tpl_notice", Status: "accept"}}}); err != nil {
		t.Fatal(err)
	}
	granted := notice
	granted.ID = "v:notice2"
	if err := n.Notify(ctx, granted); err != nil {
		t.Fatal(err)
	}
	if dl := awaitDelivery(t, n, granted); dl.Channel != desk.ChannelNotice {
		t.Errorf("a granted notice: %+v, want notice", dl)
	}
}
