package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// runJSON runs the run subcommand with -json against url and decodes the report.
func runJSON(t *testing.T, url string, acct account, extra ...string) report {
	t.Helper()
	args := []string{"huimin-load", "run", "-url", url, "-token", acct.token, "-json"}
	if acct.safe() {
		args = append(args, "-aes-key", acct.aesKey, "-app-id", acct.appID)
	}
	args = append(args, extra...)
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run() error = %v; stderr:\n%s", err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("decode report %q: %v", stdout.String(), err)
	}
	return rep
}

var small = []string{"-c", "4", "-n", "200", "-openids", "50", "-warmup", "0"}

func TestRunAgainstBaseline(t *testing.T) {
	for _, acct := range []account{plainAcct, safeAcct} {
		t.Run(acct.mode(), func(t *testing.T) {
			srv := httptest.NewServer(newBaseline(acct, nil))
			t.Cleanup(srv.Close)
			rep := runJSON(t, srv.URL+"/wechat", acct, small...)
			if rep.Requests != 200 || rep.Errors != 0 {
				t.Fatalf("requests, errors = %d, %d (%v), want 200, 0", rep.Requests, rep.Errors, rep.ErrorSamples)
			}
			if got := rep.Replies[replySuccess]; got != 200 {
				t.Errorf("success replies = %d, want 200", got)
			}
			if rep.Mode != acct.mode() {
				t.Errorf("mode = %q, want %q", rep.Mode, acct.mode())
			}
			if rep.Throughput <= 0 || rep.LatencyMS.P50 <= 0 || rep.LatencyMS.P99 < rep.LatencyMS.P50 || rep.LatencyMS.Max < rep.LatencyMS.P999 {
				t.Errorf("implausible figures: throughput %v, latency %+v", rep.Throughput, rep.LatencyMS)
			}
		})
	}
}

func TestRunCountsErrors(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantKind string
	}{
		{"server error", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, "status_500"},
		{"not an answer", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}, "bad_reply"},
		{"connection dropped", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, "transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			rep := runJSON(t, srv.URL+"/wechat", plainAcct, small...)
			if rep.Requests != 200 || rep.Errors != 200 || rep.ErrorKinds[tt.wantKind] != 200 {
				t.Errorf("requests, errors, kinds = %d, %d, %v, want 200, 200, {%s: 200}", rep.Requests, rep.Errors, rep.ErrorKinds, tt.wantKind)
			}
			if rep.ErrorSamples[tt.wantKind] == "" {
				t.Errorf("no error sample for %s", tt.wantKind)
			}
		})
	}
}

// TestRunSendsDistinctMessages records what a plain-mode run posts, warmup
// included, and checks every message is distinct and spread over the pool.
func TestRunSendsDistinctMessages(t *testing.T) {
	var (
		mu     sync.Mutex
		msgIDs = map[int64]int{}
		nonces = map[string]int{}
		froms  = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m message.MixMessage
		if err := xml.Unmarshal(body, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		msgIDs[m.MsgID]++
		nonces[r.URL.Query().Get("nonce")]++
		froms[string(m.FromUserName)]++
		mu.Unlock()
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(srv.Close)

	rep := runJSON(t, srv.URL+"/wechat", plainAcct, "-c", "4", "-n", "200", "-openids", "50", "-warmup", "20ms")
	if rep.Errors != 0 || rep.WarmupErrors != 0 {
		t.Fatalf("errors = %d, warmup errors = %d, want 0", rep.Errors, rep.WarmupErrors)
	}
	mu.Lock()
	defer mu.Unlock()
	total := rep.Requests + rep.Warmup
	if len(msgIDs) != total || len(nonces) != total {
		t.Errorf("distinct MsgIds, nonces = %d, %d, want %d each", len(msgIDs), len(nonces), total)
	}
	for id := range msgIDs {
		if id <= 1<<53 {
			t.Errorf("MsgId %d, want > 2^53", id)
			break
		}
	}
	if len(froms) != 50 {
		t.Errorf("distinct openids = %d, want 50", len(froms))
	}
	for from, n := range froms {
		if len(from) != openIDLen || n < 4 {
			t.Errorf("openid %q sent %d messages, want 28 characters and at least 4", from, n)
		}
	}
}

func TestGenerator(t *testing.T) {
	for _, spread := range []bool{false, true} {
		g := &generator{acct: plainAcct, to: "gh_3f1a5b7c9d2e", openids: 50, random: spread, seed: 7, msgIDBase: 1 << 54, nonceBase: 1e9, timestamp: 1700000000, texts: textSets["conversation"]}
		t.Run(strconv.FormatBool(spread), func(t *testing.T) {
			sent := map[int32]int{}
			for i := range 200 {
				p, err := g.request(i)
				if err != nil {
					t.Fatalf("request(%d) error = %v", i, err)
				}
				sent[p.from]++
				var m message.MixMessage
				if err := xml.Unmarshal([]byte(p.body), &m); err != nil {
					t.Fatalf("request(%d) body does not parse: %v", i, err)
				}
				if want := openID(int(p.from)); string(m.FromUserName) != want || !strings.Contains(p.query, "&openid="+want) {
					t.Errorf("request(%d) from %q (query %q), want %q", i, m.FromUserName, p.query, want)
				}
				if m.MsgID != 1<<54+int64(i) || m.MsgType != "text" || m.Content == "" || m.CreateTime != 1700000000 {
					t.Errorf("request(%d) = %+v", i, m.CommonToken)
				}
			}
			if !spread {
				for k := range int32(50) {
					if sent[k] != 4 {
						t.Errorf("round robin: openid %d sent %d, want 4", k, sent[k])
					}
				}
			}
			for k := range sent {
				if k < 0 || k >= 50 {
					t.Errorf("openid index %d outside the pool", k)
				}
			}
		})
	}
}

func TestOpenID(t *testing.T) {
	if got, want := openID(42), "o000000000000000000000000042"; got != want {
		t.Errorf("openID(42) = %q, want %q", got, want)
	}
}

// encryptedReply builds a safe-mode passive reply to openid the way the SDK's
// Server.Send does.
func encryptedReply(t *testing.T, token, appID, openid string) []byte {
	t.Helper()
	inner := `<xml><ToUserName><![CDATA[` + openid + `]]></ToUserName><FromUserName><![CDATA[gh_3f1a5b7c9d2e]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[请选择]]></Content></xml>`
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(inner), appID, testAESKey)
	if err != nil {
		t.Fatalf("EncryptMsg() error = %v", err)
	}
	b, err := xml.Marshal(message.ResponseEncryptedXMLMsg{
		EncryptedMsg: string(enc),
		MsgSignature: util.Signature(token, "1700000001", "555", string(enc)),
		Timestamp:    1700000001,
		Nonce:        "555",
	})
	if err != nil {
		t.Fatalf("marshal reply: %v", err)
	}
	return b
}

func TestReplyChecker(t *testing.T) {
	const sender = 42
	me := openID(sender)
	plainReply := func(to, from, msgType string) []byte {
		return []byte(`<xml><ToUserName><![CDATA[` + to + `]]></ToUserName><FromUserName><![CDATA[` + from + `]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[` + msgType + `]]></MsgType><Content><![CDATA[好]]></Content></xml>`)
	}
	tests := []struct {
		name     string
		acct     account
		body     []byte
		want     string
		wantKind string
	}{
		{"success", plainAcct, []byte("success"), replySuccess, ""},
		{"success with newline", plainAcct, []byte("success\n"), replySuccess, ""},
		{"empty", plainAcct, nil, replyEmpty, ""},
		{"xml reply", plainAcct, plainReply(me, "gh_3f1a5b7c9d2e", "text"), replyXML, ""},
		{"xml reply to someone else", plainAcct, plainReply(openID(43), "gh_3f1a5b7c9d2e", "text"), "", "bad_reply"},
		{"xml reply from another account", plainAcct, plainReply(me, "gh_other", "text"), "", "bad_reply"},
		{"xml reply without type", plainAcct, plainReply(me, "gh_3f1a5b7c9d2e", ""), "", "bad_reply"},
		{"not an answer", plainAcct, []byte("ok"), "", "bad_reply"},
		{"safe success", safeAcct, []byte("success"), replySuccess, ""},
		{"safe encrypted reply", safeAcct, encryptedReply(t, testToken, testAppID, me), replyXML, ""},
		{"safe reply to someone else", safeAcct, encryptedReply(t, testToken, testAppID, openID(43)), "", "bad_reply"},
		{"safe reply bad signature", safeAcct, encryptedReply(t, "othertoken", testAppID, me), "", "bad_reply_signature"},
		{"safe reply for another app", safeAcct, encryptedReply(t, testToken, "wxsomeoneelse0000", me), "", "bad_reply_decrypt"},
		{"safe reply in plaintext", safeAcct, plainReply(me, "gh_3f1a5b7c9d2e", "text"), "", "bad_reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := replyChecker{acct: tt.acct, to: "gh_3f1a5b7c9d2e"}
			got, err := c.check(tt.body, sender)
			var kind string
			if f, ok := errors.AsType[*failure](err); ok {
				kind = f.kind
			} else if err != nil {
				t.Fatalf("check() error %v is not a *failure", err)
			}
			if got != tt.want || kind != tt.wantKind {
				t.Errorf("check() = %q, kind %q (%v), want %q, kind %q", got, kind, err, tt.want, tt.wantKind)
			}
		})
	}
}

func TestRunRejectsBadCommandLines(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no subcommand", []string{"huimin-load"}},
		{"unknown subcommand", []string{"huimin-load", "compare"}},
		{"no token", []string{"huimin-load", "run"}},
		{"short aes key", []string{"huimin-load", "run", "-token", "t", "-aes-key", "short", "-app-id", "wx"}},
		{"aes key without app id", []string{"huimin-load", "run", "-token", "t", "-aes-key", testAESKey}},
		{"zero concurrency", []string{"huimin-load", "run", "-token", "t", "-c", "0"}},
		{"bad spread", []string{"huimin-load", "run", "-token", "t", "-spread", "zipf"}},
		{"url with query", []string{"huimin-load", "run", "-token", "t", "-url", "http://127.0.0.1:1/wechat?x=1"}},
		{"baseline without token", []string{"huimin-load", "baseline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := run(t.Context(), tt.args, io.Discard, io.Discard); err == nil {
				t.Errorf("run(%q) = nil, want an error", tt.args)
			}
		})
	}
}

func TestRunTextReport(t *testing.T) {
	srv := httptest.NewServer(newBaseline(plainAcct, nil))
	t.Cleanup(srv.Close)
	var stdout bytes.Buffer
	args := append([]string{"huimin-load", "run", "-url", srv.URL + "/wechat", "-token", testToken, "-label", "plain/baseline"}, small...)
	if err := run(t.Context(), args, &stdout, io.Discard); err != nil {
		t.Fatalf("run() error = %v", err)
	}
	for _, want := range []string{"plain/baseline", "requests    200 in", "errors      0", "p99 "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
}
