package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// simJSON calls a /sim/api/ route and decodes the answer into out, returning the status.
func simJSON(t *testing.T, method, target string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("decode %s: %v", target, err)
		}
	}
	return resp.StatusCode
}

func TestSimJSONAPI(t *testing.T) {
	wh := startWebhook(t, ModeSafe)
	s, base, _ := startSim(t, Options{WebhookURL: wh.url, AESKey: testAESKey})

	t.Run("send", func(t *testing.T) {
		var res struct {
			Status     int             `json:"status"`
			Reply      *Reply          `json:"reply"`
			Deliveries int             `json:"deliveries"`
			MsgID      string          `json:"msg_id"`
			Raw        json.RawMessage `json:"-"`
		}
		code := simJSON(t, http.MethodPost, base+"/sim/api/send", map[string]any{"openid": testOpenID, "type": "text", "content": "查询进度"}, &res)
		if code != http.StatusOK || res.Status != 200 || res.Deliveries != 1 || res.Reply == nil || res.Reply.MsgType != "text" || res.Reply.Content != "收到：查询进度" {
			t.Errorf("send = HTTP %d %+v", code, res)
		}
		if len(res.MsgID) < 17 {
			t.Errorf("msg_id = %q, want a WeChat-sized id as a string", res.MsgID)
		}
		var ev struct {
			Reply *Reply `json:"reply"`
		}
		simJSON(t, http.MethodPost, base+"/sim/api/send", map[string]any{"openid": testOpenID, "type": "event", "event": "subscribe"}, &ev)
		if ev.Reply != nil {
			t.Errorf("subscribe reply = %+v, want null for \"success\"", ev.Reply)
		}
		var bad struct {
			Error string `json:"error"`
		}
		if code := simJSON(t, http.MethodPost, base+"/sim/api/send", map[string]any{"openid": testOpenID, "type": "fax"}, &bad); code != http.StatusBadRequest || bad.Error == "" {
			t.Errorf("bad type = HTTP %d %+v, want 400 with an error", code, bad)
		}
	})

	t.Run("messages", func(t *testing.T) {
		var out struct {
			Messages []Received `json:"messages"`
		}
		simJSON(t, http.MethodGet, base+"/sim/api/messages?openid="+testOpenID, nil, &out)
		if len(out.Messages) != 1 || out.Messages[0].Kind != KindReply {
			t.Fatalf("messages = %+v, want the one passive reply", out.Messages)
		}
		after := out.Messages[0].Seq
		simJSON(t, http.MethodGet, base+"/sim/api/messages?all=1&openid="+testOpenID, nil, &out)
		if len(out.Messages) != 3 || out.Messages[0].Kind != KindUser || out.Messages[2].MsgType != "subscribe" {
			t.Errorf("all=1 messages = %+v, want user text, reply, subscribe", out.Messages)
		}

		// Long poll: answers when a customer-service message arrives after seq.
		type pollResult struct {
			msgs []Received
			err  error
		}
		polled := make(chan pollResult, 1)
		start := time.Now()
		go func() {
			resp, err := http.Get(base + "/sim/api/messages?wait=10&after=" + strconv.FormatInt(after, 10) + "&openid=" + testOpenID)
			if err != nil {
				polled <- pollResult{err: err}
				return
			}
			defer resp.Body.Close()
			var out struct {
				Messages []Received `json:"messages"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			polled <- pollResult{msgs: out.Messages, err: err}
		}()
		tok := getToken(t, base)
		if code := customText(t, base, tok, testOpenID, "已转交窗口办理"); code != 0 {
			t.Fatalf("custom send: errcode %d", code)
		}
		r := <-polled
		if r.err != nil || len(r.msgs) != 1 || r.msgs[0].Text != "已转交窗口办理" {
			t.Errorf("long poll = %+v, %v; want the new customer-service message", r.msgs, r.err)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("long poll waited %v", time.Since(start))
		}
		if code := simJSON(t, http.MethodGet, base+"/sim/api/messages", nil, nil); code != http.StatusBadRequest {
			t.Errorf("without openid = HTTP %d, want 400", code)
		}
	})

	t.Run("faults and stats", func(t *testing.T) {
		var f struct {
			OK     bool    `json:"ok"`
			Faults []Fault `json:"faults"`
		}
		simJSON(t, http.MethodPost, base+"/sim/api/faults", Fault{Kind: FaultOutOfWindow, OpenID: testOpenID}, &f)
		if !f.OK || len(f.Faults) != 1 {
			t.Errorf("set fault = %+v", f)
		}
		tok := getToken(t, base)
		if got := customText(t, base, tok, testOpenID, "x"); got != CodeOutOfTimeLimit {
			t.Errorf("errcode = %d, want %d", got, CodeOutOfTimeLimit)
		}
		simJSON(t, http.MethodPost, base+"/sim/api/faults", Fault{Kind: FaultClear}, &f)
		simJSON(t, http.MethodGet, base+"/sim/api/faults", nil, &f)
		if len(f.Faults) != 0 {
			t.Errorf("faults after clear = %+v", f.Faults)
		}
		if code := simJSON(t, http.MethodPost, base+"/sim/api/faults", map[string]any{"kind": "nope"}, nil); code != http.StatusBadRequest {
			t.Errorf("bad fault = HTTP %d, want 400", code)
		}
		var st struct {
			Calls map[string]int `json:"calls"`
		}
		simJSON(t, http.MethodGet, base+"/sim/api/stats", nil, &st)
		if st.Calls["/cgi-bin/token"] != s.Calls("/cgi-bin/token") || st.Calls["/cgi-bin/token"] < 2 {
			t.Errorf("stats = %v", st.Calls)
		}
	})

	t.Run("state and verify", func(t *testing.T) {
		var st struct {
			Mode      string      `json:"mode"`
			ModeLabel string      `json:"mode_label"`
			Users     []userState `json:"users"`
			Presets   []Preset    `json:"presets"`
		}
		simJSON(t, http.MethodGet, base+"/sim/api/state", nil, &st)
		if st.Mode != ModeSafe || st.ModeLabel != "安全模式" || len(st.Users) != 1 || !st.Users[0].Subscribed || len(st.Presets) == 0 {
			t.Errorf("state = %+v", st)
		}
		var v struct {
			OK bool `json:"ok"`
		}
		if code := simJSON(t, http.MethodPost, base+"/sim/api/verify", nil, &v); code != http.StatusOK || !v.OK {
			t.Errorf("verify = HTTP %d %+v", code, v)
		}
	})

	t.Run("page", func(t *testing.T) {
		for path, want := range map[string]string{
			"/":                 "安全模式",
			"/static/app.js":    "/sim/api/send",
			"/static/style.css": ".bubble",
		} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
				t.Errorf("GET %s = HTTP %d, want a body containing %q", path, resp.StatusCode, want)
			}
		}
	})
}

func TestPresetsOption(t *testing.T) {
	want := []Preset{{OpenID: "officer-009", Label: "王明（社会救助科）"}}
	for _, tt := range []struct {
		name    string
		presets []Preset
		first   string
	}{{"default", nil, "citizen-001"}, {"configured", want, "officer-009"}} {
		t.Run(tt.name, func(t *testing.T) {
			_, base, _ := startSim(t, Options{Presets: tt.presets})
			resp, err := http.Get(base + "/sim/api/state")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var st struct {
				Presets []Preset `json:"presets"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
				t.Fatal(err)
			}
			if len(st.Presets) == 0 || st.Presets[0].OpenID != tt.first {
				t.Errorf("presets = %+v, want the first to be %s", st.Presets, tt.first)
			}
		})
	}
}

// TestDefaultWeComMembersNameNoDepartment checks that the simulator, given
// no labels, lists its default WeCom members without a name or department
// of its own making (defect 7: it labelled li.na 李娜（社会救助科）, while
// the demo bureau has her in 养老服务和儿童福利科). People's names and
// departments come from the configuration, through Options.WeComPresets.
func TestDefaultWeComMembersNameNoDepartment(t *testing.T) {
	for _, p := range weComPresets(defaultWeComMembers(), nil) {
		if p.Label != "工作人员 "+p.OpenID {
			t.Errorf("default member %s is labelled %q, want 工作人员 %s", p.OpenID, p.Label, p.OpenID)
		}
	}
	got := weComPresets([]string{"li.na"}, map[string]string{"li.na": "李娜（养老服务和儿童福利科） li.na"})
	if got[0].Label != "李娜（养老服务和儿童福利科） li.na" {
		t.Errorf("configured label = %q, want it as given", got[0].Label)
	}
}
