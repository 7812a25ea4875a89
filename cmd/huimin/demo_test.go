package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"huimin/config"
)

// demoClient drives the demo's simulator over its JSON API, as a script
// or a person at the chat page would.
type demoClient struct {
	t    *testing.T
	base string
	seen map[string]int64 // openid/userid → last sequence number read
}

func (c *demoClient) post(path string, body any) map[string]any {
	c.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(c.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	if e, _ := out["error"].(string); e != "" {
		c.t.Fatalf("POST %s %v: %s", path, body, e)
	}
	return out
}

// say sends a text as a citizen or officer and returns the passive reply.
func (c *demoClient) say(openid, text string) string {
	c.t.Helper()
	return c.send(map[string]any{"openid": openid, "type": "text", "content": text})
}

// send posts a message and returns the answer: the passive reply, or, when
// the service overran WeChat's reply budget (a loaded machine) and answered
// "success", the customer-service message that carries the reply instead.
func (c *demoClient) send(m map[string]any) string {
	c.t.Helper()
	out := c.post("/sim/api/send", m)
	reply, _ := out["reply"].(map[string]any)
	content, _ := reply["content"].(string)
	if content == "" {
		openid, _ := m["openid"].(string)
		return c.await(openid, "", "")
	}
	return content
}

// await waits until user has received a message containing want (besides
// passive replies) and returns it.
func (c *demoClient) await(user, channel, want string) string {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		q := url.Values{"openid": {user}, "after": {fmt.Sprint(c.seen[user])}, "wait": {"2"}}
		if channel != "" {
			q.Set("channel", channel)
		}
		resp, err := http.Get(c.base + "/sim/api/messages?" + q.Encode())
		if err != nil {
			c.t.Fatal(err)
		}
		var out struct {
			Messages []json.RawMessage `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			c.t.Fatal(err)
		}
		for _, raw := range out.Messages {
			var m struct {
				Seq  int64  `json:"seq"`
				Kind string `json:"kind"`
			}
			if err := json.Unmarshal(raw, &m); err != nil {
				c.t.Fatal(err)
			}
			c.seen[user] = m.Seq
			// Text, menu or template card: whatever the person would read.
			if m.Kind != "reply" && strings.Contains(string(raw), want) {
				return string(raw)
			}
		}
	}
	c.t.Fatalf("%s never received a message with %q", user, want)
	return ""
}

var ticketNumber = regexp.MustCompile(`MZ\d{8}-\d{4}`)

// TestDemoWalkthrough follows the README's walkthrough on `huimin demo`:
// a citizen's matter to a ticket, and an officer accepting, conversing,
// asking for more, extending (the chief approves), resolving and
// transferring it, with the citizen seeing each step.
func TestDemoWalkthrough(t *testing.T) {
	addr, simAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"huimin", "demo", "--addr", addr, "--sim-addr", simAddr, "--data", filepath.Join(t.TempDir(), "demo.db")},
			envFunc(map[string]string{"HUIMIN_LOG_LEVEL": "warn"}), io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v", err)
		}
	})
	waitReady(t, "http://"+addr+"/readyz")
	c := &demoClient{t: t, base: "http://" + simAddr, seen: map[string]int64{}}

	// The officers follow the account first, as they would on their phones.
	for _, o := range []string{"officer-001", "officer-002"} {
		if got := c.send(map[string]any{"openid": o, "type": "event", "event": "subscribe"}); !strings.Contains(got, "工作人员") {
			t.Fatalf("%s follows: %q, want the officer greeting", o, got)
		}
	}
	if got := c.send(map[string]any{"openid": "citizen-001", "type": "event", "event": "subscribe"}); !strings.Contains(got, "欢迎关注") {
		t.Fatalf("follow: %q", got)
	}
	id := c.reliefMatter("citizen-001")

	c.await("officer-001", "", id) // the assignment card
	if got := c.say("officer-001", "接单 "+id); !strings.Contains(got, "已接单") {
		t.Fatalf("接单: %q", got)
	}
	c.await("citizen-001", "", "接单办理")
	c.say("officer-001", "回复 "+id+" 您好，请问老人住院了吗？")
	c.await("citizen-001", "", "请问老人住院了吗")
	if got := c.say("citizen-001", "住院三天了"); !strings.Contains(got, "已转给工单") {
		t.Fatalf("citizen's answer: %q", got)
	}
	c.await("officer-001", "", "住院三天了")
	c.say("officer-001", "补充 "+id+" 请发送住院证明照片")
	c.await("citizen-001", "", "住院证明")
	if got := c.send(map[string]any{"openid": "citizen-001", "type": "image"}); !strings.Contains(got, "已转给工单") {
		t.Fatalf("citizen's picture: %q", got)
	}
	c.await("officer-001", "", "图片")
	// The picture itself reaches the officer, as a customer-service image.
	if got := c.await("officer-001", "", `"media_id"`); !strings.Contains(got, `"msg_type":"image"`) {
		t.Errorf("officer got %s, want the citizen's picture as an image message", got)
	}
	if got := c.say("officer-001", "延期 "+id+" 5 需要入户调查"); !strings.Contains(got, "审批") {
		t.Fatalf("延期: %q", got)
	}
	c.await("officer-002", "", "延期申请")
	if got := c.say("officer-002", "同意 "+id); !strings.Contains(got, "已同意延期") {
		t.Fatalf("同意: %q", got)
	}
	c.await("citizen-001", "", "新的办结时限")
	c.say("officer-001", "办结 "+id+" 已按临时救助政策发放救助金")
	c.await("citizen-001", "", "已办结")
	if got := c.say("citizen-001", "进度"); !strings.Contains(got, id) || !strings.Contains(got, "已办结") {
		t.Errorf("进度: %q", got)
	}

	// A second matter goes to another section by transfer; its chief works
	// from WeCom.
	second := c.reliefMatter("citizen-002")
	c.await("officer-001", "", second)
	if got := c.say("officer-001", "转办 "+second+" 优抚安置科 申请人是退役军人"); !strings.Contains(got, "已转办") {
		t.Fatalf("转办: %q", got)
	}
	c.await("zhang.wei", "wecom", second)
	c.await("citizen-002", "", "优抚安置科")
	c.post("/sim/api/wecom/send", map[string]any{"userid": "zhang.wei", "type": "text", "content": "接单 " + second})
	c.await("zhang.wei", "wecom", "已接单")
	if got := c.say("officer-001", "回复 "+second+" 您好"); !strings.Contains(got, "无权") {
		t.Errorf("the first officer still acts on a transferred ticket: %q", got)
	}
	// 首问负责: the first officer keeps read access and stays on record.
	if got := c.say("officer-001", "查看 "+second); !strings.Contains(got, "首问负责：王明") {
		t.Errorf("the first officer cannot follow the transferred ticket: %q", got)
	}
	if got := c.say("officer-002", "我的工单"); !strings.Contains(got, "本科室") {
		t.Errorf("chief's 我的工单: %q", got)
	}
	// The service serves its pages on the same server as the webhook.
	resp, err := http.Get("http://" + addr + "/offices")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "养老服务和儿童福利科") {
		t.Errorf("GET /offices = %d, want the demo bureau's departments", resp.StatusCode)
	}
	// The service guides and commitments, with the demo bureau's offices.
	resp, err = http.Get("http://" + addr + "/guide")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "限时办结") || !strings.Contains(string(body), "高龄津贴申请") ||
		!strings.Contains(string(body), "养老服务和儿童福利科") {
		t.Errorf("GET /guide = %d, want the commitments and the guides with the demo bureau's offices", resp.StatusCode)
	}
}

// reliefMatter walks a citizen through the 低保 flow and returns the ticket number.
func (c *demoClient) reliefMatter(openid string) string {
	c.t.Helper()
	var last string
	for _, text := range []string{"1", "直接办理", "2", "2", "城关街道", "家里老人生病住院，生活困难", "1", "王阿姨", "13812345678", "1"} {
		if strings.Contains(last, "不同意") {
			// The personal-information notice, the first time this
			// citizen is asked for a phone number: agree.
			if got := c.say(openid, "同意"); !strings.Contains(got, "手机") {
				c.t.Fatalf("同意 to the notice answered %q, want the phone question", got)
			}
		}
		last = c.say(openid, text)
	}
	id := ticketNumber.FindString(last)
	if id == "" {
		c.t.Fatalf("no ticket number after the flow; last reply %q", last)
	}
	return id
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // waiting for a server to start, not timing a test
	}
	t.Fatalf("%s never became ready", url)
}

// TestDemoPresetsComeFromTheConfiguration checks that the simulator lists
// the demo bureau's people as configured (defect 7: 李娜 was labelled
// 社会救助科), and that every department has someone who can receive its
// tickets, so that every service line of the demo can be played (defect 2).
func TestDemoPresetsComeFromTheConfiguration(t *testing.T) {
	cfg, err := config.LoadYAML(demoYAML, func(k string) string {
		return map[string]string{"HUIMIN_WECHAT_APP_ID": "wx1", "HUIMIN_WECHAT_APP_SECRET": "s", "HUIMIN_WECHAT_TOKEN": "token"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	wechat, wecom := demoPresets(cfg.Desk)
	labels := map[string]string{}
	for _, p := range append(wechat, wecom...) {
		labels[p.OpenID] = p.Label
	}
	if got := labels["li.na"]; !strings.Contains(got, "李娜（养老服务和儿童福利科）") {
		t.Errorf("li.na is labelled %q, want her department 养老服务和儿童福利科", got)
	}
	if got := labels["officer-002"]; !strings.Contains(got, "赵敏") {
		t.Errorf("officer-002 is labelled %q, want 赵敏", got)
	}
	for _, dp := range cfg.Desk.Departments {
		reachable := false
		for _, o := range cfg.Desk.Officers {
			if (o.Department == dp.ID || o.ID == dp.Supervisor) && !o.Leader && (o.OpenID != "" || o.WeComUser != "") {
				reachable = true
			}
		}
		if !reachable {
			t.Errorf("department %s (%s): nobody in the demo can receive its tickets", dp.ID, dp.Name)
		}
	}
}

// startDemo runs `huimin demo` on free ports with extra environment and
// returns a client of its simulator and the service's address.
func startDemo(t *testing.T, env map[string]string) (*demoClient, string) {
	t.Helper()
	addr, simAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	e := map[string]string{"HUIMIN_LOG_LEVEL": "warn"}
	maps.Copy(e, env)
	go func() {
		done <- run(ctx, []string{"huimin", "demo", "--addr", addr, "--sim-addr", simAddr, "--data", filepath.Join(t.TempDir(), "demo.db")},
			envFunc(e), io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v", err)
		}
	})
	waitReady(t, "http://"+addr+"/readyz")
	return &demoClient{t: t, base: "http://" + simAddr, seen: map[string]int64{}}, addr
}

// TestDemoReturnVisitLoop walks README's return-visit loop on the demo:
// the resolved matter's visit arrives as tappable levels; 非常不满意 starts
// the rectification, which the chief and the named person get in chat;
// the named person records 立行立改; the citizen gets the outcome and a
// second visit, and 进度 shows the timeline.
func TestDemoReturnVisitLoop(t *testing.T) {
	c, _ := startDemo(t, map[string]string{"HUIMIN_SURVEY_DELAY": "1s"})
	for _, o := range []string{"officer-001", "officer-002", "citizen-001"} {
		c.send(map[string]any{"openid": o, "type": "event", "event": "subscribe"})
	}
	id := c.reliefMatter("citizen-001")
	c.await("officer-001", "", id)
	c.say("officer-001", "接单 "+id)
	c.say("officer-001", "办结 "+id+" 已按临时救助政策发放救助金")
	c.await("citizen-001", "", "已办结")
	visit := c.await("citizen-001", "", "回访")
	for _, level := range []string{`"1"`, "非常满意", "基本满意", "非常不满意", "回复数字"} {
		if !strings.Contains(visit, level) {
			t.Errorf("the visit %s lacks %s", visit, level)
		}
	}
	// The citizen taps 非常不满意: its text, with its ID as bizmsgmenuid.
	got := c.send(map[string]any{"openid": "citizen-001", "type": "text", "content": "非常不满意", "bizmsgmenuid": "5"})
	if !strings.Contains(got, "整改") || !strings.Contains(got, "没有请回复1") {
		t.Fatalf("rating 非常不满意: %q", got)
	}
	if got := c.say("citizen-001", "救助金一直没到账"); !strings.Contains(got, "已记录您的意见") {
		t.Errorf("comment: %q", got)
	}
	c.await("officer-002", "", "差评整改") // the chief
	c.await("officer-001", "", "差评整改") // the named person: the owner
	c.await("officer-001", "", "救助金一直没到账")
	c.await("citizen-001", "", "负责核实")
	if got := c.say("officer-001", "整改 "+id+" 立行立改 已核实补发救助金"); !strings.Contains(got, "重新办结") {
		t.Fatalf("立行立改: %q", got)
	}
	c.await("citizen-001", "", "已核实补发救助金")
	c.await("citizen-001", "", "回访")
	if got := c.say("citizen-001", "2"); !strings.Contains(got, "满意") {
		t.Fatalf("second rating: %q", got)
	}
	c.say("citizen-001", "1")
	c.await("officer-001", "", "第2次回访：满意")
	progress := c.say("citizen-001", "进度")
	for _, step := range []string{"回访", "评价：非常不满意", "整改", "立行立改", "评价：满意", "归档"} {
		if !strings.Contains(progress, step) {
			t.Errorf("进度 lacks %q: %q", step, progress)
		}
	}
}

// TestDemoSurveyPageOutsideTheWindow: a citizen outside WeChat's 48-hour
// window gets the survey as the template message; its link opens
// Huimin's survey page, which records the answer once.
func TestDemoSurveyPageOutsideTheWindow(t *testing.T) {
	c, addr := startDemo(t, map[string]string{"HUIMIN_SURVEY_DELAY": "1s"})
	id, link := c.surveyLink(addr, "citizen-002")
	get := func() (int, string) {
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, page := get(); code != http.StatusOK || !strings.Contains(page, id) || !strings.Contains(page, "基本满意") || strings.Contains(page, "13812345678") {
		t.Fatalf("survey page = %d:\n%s", code, page)
	}
	post := func() int {
		resp, err := http.PostForm(link, url.Values{"level": {"1"}, "comment": {"谢谢"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("answer = %d", code)
	}
	if code := post(); code != http.StatusGone {
		t.Errorf("second answer = %d, want 410", code)
	}
	c.await("officer-001", "", "第1次回访：非常满意")
	// The visit's channel is recorded once the outbox has its end (the
	// first look is 10 s after sending).
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := c.say("officer-001", "查看 "+id)
		if strings.Contains(got, "评价：非常满意") && strings.Contains(got, "模板消息送达") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("查看 after the page's answer: %q, want the rating and the template channel", got)
		}
		time.Sleep(500 * time.Millisecond) // polling the service
	}
}

// surveyLink walks citizen's matter to 办结 while WeChat's 48-hour window
// is closed, so that the return visit goes out as the survey template
// message, and returns the ticket and the message's link.
func (c *demoClient) surveyLink(addr, citizen string) (string, string) {
	c.t.Helper()
	for _, o := range []string{"officer-001", citizen} {
		c.send(map[string]any{"openid": o, "type": "event", "event": "subscribe"})
	}
	id := c.reliefMatter(citizen)
	c.await("officer-001", "", id)
	c.say("officer-001", "接单 "+id)
	c.post("/sim/api/faults", map[string]any{"kind": "out_of_window", "openid": citizen})
	c.say("officer-001", "办结 "+id+" 已办理")
	card := c.await(citizen, "", "demo_tpl_survey")
	var m struct {
		Template struct {
			URL string `json:"url"`
		} `json:"template"`
	}
	if err := json.Unmarshal([]byte(card), &m); err != nil {
		c.t.Fatal(err)
	}
	if !strings.HasPrefix(m.Template.URL, "http://"+addr+"/survey/"+id+".1.") {
		c.t.Fatalf("template link = %q, want the survey page for %s", m.Template.URL, id)
	}
	return id, m.Template.URL
}

// TestDemoSurveyPageWithWeChatOAuth: with survey.oauth on, the survey
// page asks the simulator's WeChat who opens the template message's link
// (snsapi_base) and takes the answer from the ticket's citizen only; the
// same link opened by an officer is refused.
func TestDemoSurveyPageWithWeChatOAuth(t *testing.T) {
	c, addr := startDemo(t, map[string]string{"HUIMIN_SURVEY_DELAY": "1s", "HUIMIN_SURVEY_OAUTH": "true"})
	id, link := c.surveyLink(addr, "citizen-003")

	// A WeChat in-app browser: cookies kept, each redirect looked at.
	newBrowser := func() *http.Client {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	do := func(b *http.Client, method, target string, form url.Values) (int, string, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			resp, err = b.PostForm(target, form)
		} else {
			resp, err = b.Get(target)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(body)
	}
	// open follows the link as openid: to the simulator's authorize page,
	// back with a code, on to the page's clean address; it returns the
	// page.
	open := func(b *http.Client, openid string) (int, string) {
		t.Helper()
		code, loc, body := do(b, http.MethodGet, link, nil)
		if code != http.StatusFound || !strings.HasPrefix(loc, c.base+"/connect/oauth2/authorize?") {
			t.Fatalf("the link = %d to %q, want 302 to the simulator's authorize page\n%s", code, loc, body)
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("appid") != demoAppID || q.Get("scope") != "snsapi_base" || q.Get("redirect_uri") != link || u.Fragment != "wechat_redirect" {
			t.Errorf("authorize URL %s: want the demo's appid, snsapi_base and the link as redirect_uri", loc)
		}
		q.Set("sim_openid", openid) // who the simulated WeChat client is
		u.RawQuery = q.Encode()
		if code, loc, body = do(b, http.MethodGet, u.String(), nil); code != http.StatusFound || !strings.HasPrefix(loc, link+"?code=") {
			t.Fatalf("authorize = %d to %q, want 302 back to the link with a code\n%s", code, loc, body)
		}
		if code, loc, body = do(b, http.MethodGet, loc, nil); code != http.StatusFound || loc != link {
			t.Fatalf("back from WeChat = %d to %q, want 302 to the link itself\n%s", code, loc, body)
		}
		code, _, body = do(b, http.MethodGet, link, nil)
		return code, body
	}
	answer := url.Values{"level": {"1"}, "comment": {"谢谢"}}

	officer := newBrowser()
	if code, page := open(officer, "officer-001"); code != http.StatusForbidden || !strings.Contains(page, "不能评价") {
		t.Errorf("the citizen's link opened by an officer = %d, want 403 不能评价\n%s", code, page)
	}
	if code, _, page := do(officer, http.MethodPost, link, answer); code != http.StatusForbidden || !strings.Contains(page, "不能评价") {
		t.Errorf("an officer's answer = %d, want 403 不能评价\n%s", code, page)
	}
	// Not through WeChat at all: no answer either.
	if code, _, page := do(newBrowser(), http.MethodPost, link, answer); code != http.StatusForbidden || !strings.Contains(page, "请重新打开评价页") {
		t.Errorf("an answer without WeChat's word = %d, want 403\n%s", code, page)
	}

	citizen := newBrowser()
	if code, page := open(citizen, "citizen-003"); code != http.StatusOK || !strings.Contains(page, id) || !strings.Contains(page, `<form method="post"`) {
		t.Fatalf("the link opened by its citizen = %d\n%s", code, page)
	}
	if code, _, page := do(citizen, http.MethodPost, link, answer); code != http.StatusOK || !strings.Contains(page, "感谢您的评价") {
		t.Fatalf("the citizen's answer = %d\n%s", code, page)
	}
	if code, _, _ := do(citizen, http.MethodPost, link, answer); code != http.StatusGone {
		t.Errorf("a second answer = %d, want 410", code)
	}
	c.await("officer-001", "", "第1次回访：非常满意")
}
