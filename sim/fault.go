package sim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// FaultKind names a failure the simulator can be told to produce.
type FaultKind string

// Faults that can be switched on (and off with Fault.Off).
const (
	// FaultOutOfWindow answers 45015 to customer-service messages for Fault.OpenID, as if
	// the 48-hour window had closed.
	FaultOutOfWindow FaultKind = "out_of_window"
	// FaultHTTP500 answers HTTP 500 to API calls on Fault.Path, or on every API path
	// (/cgi-bin/, /sns/) when Path is empty.
	FaultHTTP500 FaultKind = "http_500"
	// FaultDelay delays API answers on Fault.Path (or every path) by Fault.DelayMS; the
	// delay ends early when the caller gives up, and the call is then not done (a hang
	// before WeChat acts; FaultLateAnswer is one after).
	FaultDelay FaultKind = "delay"
	// FaultErrCode answers Fault.ErrCode (e.g. -1 "system error") on Fault.Path (or every path).
	FaultErrCode FaultKind = "errcode"
	// FaultDrop closes the connection of API calls on Fault.Path (or every path) without an
	// answer, as a proxy or a network fault does; Fault.Times limits it to that many calls.
	FaultDrop FaultKind = "drop"
	// FaultReset resets the connection (TCP RST) of API calls on Fault.Path (or every path);
	// Fault.Times limits it to that many calls.
	FaultReset FaultKind = "reset"
	// FaultLateAnswer does the API call on Fault.Path (or every path) and then holds its
	// answer back for Fault.DelayMS: when the caller gives up first, the call took effect but
	// its answer is lost, as when WeChat sent a message and the connection broke before the
	// answer reached the service. Each lost answer is recorded (see LostAnswers).
	// Fault.Times limits it to that many calls.
	FaultLateAnswer FaultKind = "late_answer"
	// FaultExpireTokens expires every access token now (it has no Off).
	FaultExpireTokens FaultKind = "expire_tokens"
	// FaultRevokeTokens revokes every access token now, as a forced refresh by another
	// client does: calls with one get 40001 (it has no Off).
	FaultRevokeTokens FaultKind = "revoke_tokens"
	// FaultClear switches every fault off.
	FaultClear FaultKind = "clear"
)

// Fault describes one failure to switch on or off. It is also the body of POST /sim/api/faults.
type Fault struct {
	Kind    FaultKind `json:"kind"`
	OpenID  string    `json:"openid,omitempty"`
	Path    string    `json:"path,omitempty"` // e.g. "/cgi-bin/message/custom/send"; empty: all API paths
	DelayMS int       `json:"delay_ms,omitempty"`
	ErrCode int       `json:"errcode,omitempty"`
	// Times limits a drop, reset or late answer to that many calls; 0 means until
	// switched off.
	Times int  `json:"times,omitempty"`
	Off   bool `json:"off,omitempty"` // switch this fault off instead of on
}

// faultState holds the faults that are on.
type faultState struct {
	outOfWindow map[string]bool
	http500     map[string]bool          // path ("" = all) → on
	delay       map[string]time.Duration // path ("" = all) → delay
	errcode     map[string]int           // path ("" = all) → errcode
	// cut holds drops and resets: path ("" = all) → what and how many
	// more times (-1: until switched off).
	cut map[string]cutFault
	// late holds late answers: path ("" = all) → how late and how many
	// more times (-1: until switched off).
	late map[string]lateFault
}

// lateFault is an answer held back after the call took effect.
type lateFault struct {
	delay time.Duration
	left  int
}

// cutFault is a connection cut: a drop or a reset, and how many more.
type cutFault struct {
	kind FaultKind
	left int
}

// newFaultState returns an empty faultState.
func newFaultState() faultState {
	return faultState{
		outOfWindow: make(map[string]bool),
		http500:     make(map[string]bool),
		delay:       make(map[string]time.Duration),
		errcode:     make(map[string]int),
		cut:         make(map[string]cutFault),
		late:        make(map[string]lateFault),
	}
}

// SetFault switches f on (or off when f.Off is set).
func (s *Simulator) SetFault(f Fault) error {
	if f.Path != "" && !strings.HasPrefix(f.Path, "/cgi-bin/") && !strings.HasPrefix(f.Path, "/sns/") {
		return fmt.Errorf("set fault %s: path %q is not an API path under /cgi-bin/ or /sns/", f.Kind, f.Path)
	}
	switch f.Kind {
	case FaultExpireTokens:
		s.ExpireTokens()
		return nil
	case FaultRevokeTokens:
		s.RevokeTokens()
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Kind {
	case FaultOutOfWindow:
		if f.OpenID == "" {
			return fmt.Errorf("set fault %s: openid is required", f.Kind)
		}
		setOrDelete(s.faults.outOfWindow, f.OpenID, true, f.Off)
	case FaultHTTP500:
		setOrDelete(s.faults.http500, f.Path, true, f.Off)
	case FaultDelay:
		if f.DelayMS <= 0 && !f.Off {
			return fmt.Errorf("set fault %s: delay_ms must be positive", f.Kind)
		}
		setOrDelete(s.faults.delay, f.Path, time.Duration(f.DelayMS)*time.Millisecond, f.Off)
	case FaultErrCode:
		if f.ErrCode == 0 && !f.Off {
			return fmt.Errorf("set fault %s: errcode must be non-zero", f.Kind)
		}
		setOrDelete(s.faults.errcode, f.Path, f.ErrCode, f.Off)
	case FaultDrop, FaultReset:
		left := f.Times
		if left <= 0 {
			left = -1
		}
		setOrDelete(s.faults.cut, f.Path, cutFault{kind: f.Kind, left: left}, f.Off)
	case FaultLateAnswer:
		if f.DelayMS <= 0 && !f.Off {
			return fmt.Errorf("set fault %s: delay_ms must be positive", f.Kind)
		}
		left := f.Times
		if left <= 0 {
			left = -1
		}
		setOrDelete(s.faults.late, f.Path, lateFault{delay: time.Duration(f.DelayMS) * time.Millisecond, left: left}, f.Off)
	case FaultClear:
		s.faults = newFaultState()
	default:
		return fmt.Errorf("set fault: unknown kind %q", f.Kind)
	}
	return nil
}

// ClearFaults switches every fault off.
func (s *Simulator) ClearFaults() {
	_ = s.SetFault(Fault{Kind: FaultClear}) // FaultClear cannot fail
}

// Faults lists the faults that are on, in a stable order.
func (s *Simulator) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Fault
	for _, id := range slices.Sorted(maps.Keys(s.faults.outOfWindow)) {
		out = append(out, Fault{Kind: FaultOutOfWindow, OpenID: id})
	}
	for _, p := range slices.Sorted(maps.Keys(s.faults.http500)) {
		out = append(out, Fault{Kind: FaultHTTP500, Path: p})
	}
	for _, p := range slices.Sorted(maps.Keys(s.faults.delay)) {
		out = append(out, Fault{Kind: FaultDelay, Path: p, DelayMS: int(s.faults.delay[p].Milliseconds())})
	}
	for _, p := range slices.Sorted(maps.Keys(s.faults.errcode)) {
		out = append(out, Fault{Kind: FaultErrCode, Path: p, ErrCode: s.faults.errcode[p]})
	}
	for _, p := range slices.Sorted(maps.Keys(s.faults.cut)) {
		c := s.faults.cut[p]
		out = append(out, Fault{Kind: c.kind, Path: p, Times: max(c.left, 0)})
	}
	for _, p := range slices.Sorted(maps.Keys(s.faults.late)) {
		l := s.faults.late[p]
		out = append(out, Fault{Kind: FaultLateAnswer, Path: p, DelayMS: int(l.delay.Milliseconds()), Times: max(l.left, 0)})
	}
	return out
}

// setOrDelete sets m[k] = v, or deletes k when off.
func setOrDelete[V any](m map[string]V, k string, v V, off bool) {
	if off {
		delete(m, k)
		return
	}
	m[k] = v
}

// Calls reports how many requests reached path (e.g. "/cgi-bin/stable_token"), faults included.
func (s *Simulator) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// CallCounts returns a copy of the per-path call counts.
func (s *Simulator) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// apiMiddleware counts every WeChat API call and applies the switched-on faults before h.
func (s *Simulator) apiMiddleware(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		s.mu.Lock()
		s.calls[path]++
		delay, hasDelay := lookupFault(s.faults.delay, path)
		fail500, _ := lookupFault(s.faults.http500, path)
		code, hasCode := lookupFault(s.faults.errcode, path)
		cut, hasCut := s.takeCut(path)
		s.mu.Unlock()
		s.log.DebugContext(r.Context(), "api call", "path", path)

		if hasDelay {
			// The server notices a caller that gave up only once the
			// request's body is read: unread, a POST would be done after
			// its delay all the same, which a hang is not.
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return // the caller gave up; nobody reads the answer
			}
		}
		if hasCut {
			cutConnection(w, cut)
			return
		}
		if fail500 {
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
		if hasCode {
			e := wxErr(code)
			e.wecom = isWeComPath(path)
			writeErr(w, e)
			return
		}
		// Only a call that reaches WeChat's handler counts down a late answer.
		s.mu.Lock()
		late, hasLate := s.takeLate(path)
		s.mu.Unlock()
		if hasLate {
			s.answerLate(w, r, h, late)
			return
		}
		h(w, r)
	})
}

// takeLate returns the late answer for path, if any, counting it down;
// s.mu is held.
func (s *Simulator) takeLate(path string) (time.Duration, bool) {
	l, ok := takeCounted(s.faults.late, path, func(l *lateFault) *int { return &l.left })
	return l.delay, ok
}

// takeCut returns the drop or reset for path, if any, counting it down;
// s.mu is held.
func (s *Simulator) takeCut(path string) (FaultKind, bool) {
	c, ok := takeCounted(s.faults.cut, path, func(c *cutFault) *int { return &c.left })
	return c.kind, ok
}

// takeCounted returns the fault for path (falling back to the all-paths
// entry) and uses it once: a fault with uses left (*left > 0) is removed
// when they run out; one not counted (-1) stays until switched off.
func takeCounted[V any](m map[string]V, path string, left func(*V) *int) (V, bool) {
	key := path
	v, ok := m[key]
	if !ok {
		key = ""
		if v, ok = m[key]; !ok {
			return v, false
		}
	}
	if n := left(&v); *n > 0 {
		*n--
		if *n == 0 {
			delete(m, key)
		} else {
			m[key] = v
		}
	}
	return v, true
}

// cutConnection ends the call's connection without an answer: closed
// (the client reads EOF) or reset (TCP RST).
func cutConnection(w http.ResponseWriter, kind FaultKind) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a recorder: abort the response instead
	}
	if tcp, ok := conn.(*net.TCPConn); ok && kind == FaultReset {
		_ = tcp.SetLinger(0) // close sends RST
	}
	_ = conn.Close()
}

// lookupFault returns the fault for path, falling back to the all-paths entry.
func lookupFault[V any](m map[string]V, path string) (V, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	v, ok := m[""]
	return v, ok
}

// LostAnswer is the answer of an API call that took effect while its
// caller had given up waiting (FaultLateAnswer).
type LostAnswer struct {
	Path    string `json:"path"`
	ErrCode int    `json:"errcode"` // what the answer said: 0 when the call succeeded
}

// LostAnswers lists the answers lost to FaultLateAnswer, in order.
func (s *Simulator) LostAnswers() []LostAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lost)
}

// answerLate does the call, then holds its answer back for delay. When the
// caller gives up first, the answer is recorded as lost: the call took
// effect (a message was sent) and the caller cannot know it.
func (s *Simulator) answerLate(w http.ResponseWriter, r *http.Request, h http.HandlerFunc, delay time.Duration) {
	held := &heldAnswer{header: http.Header{}}
	h(held, r)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		held.copyTo(w)
	case <-r.Context().Done():
		var answer struct {
			ErrCode int `json:"errcode"`
		}
		_ = json.Unmarshal(held.body.Bytes(), &answer) // not JSON: errcode 0, as an HTTP answer
		s.mu.Lock()
		s.lost = append(s.lost, LostAnswer{Path: r.URL.Path, ErrCode: answer.ErrCode})
		s.mu.Unlock()
		s.log.DebugContext(r.Context(), "api answer lost", "path", r.URL.Path, "errcode", answer.ErrCode)
	}
}

// heldAnswer is a ResponseWriter that keeps the answer for later.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header { return a.header }

func (a *heldAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *heldAnswer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}

// copyTo writes the held answer to w.
func (a *heldAnswer) copyTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), a.header)
	w.WriteHeader(cmp.Or(a.status, http.StatusOK))
	_, _ = w.Write(a.body.Bytes())
}
