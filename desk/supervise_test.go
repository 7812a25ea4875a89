package desk

import (
	"errors"
	"strings"
	"testing"
)

// TestLoginLink: a chief gets a one-time link with 登录; it logs them in
// once; anyone else is refused, and nothing is issued.
func TestLoginLink(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-24 10:00"))
		got := r.cmd(t, "zhao", "登录")
		i := strings.Index(got, "https://huimin.test/desk/login/")
		if i < 0 || !strings.Contains(got, "10分钟") {
			t.Fatalf("登录 answered %q, want a link valid 10 minutes", got)
		}
		token := strings.Fields(got[i+len("https://huimin.test/desk/login/"):])[0]
		o, err := r.desk.Login(t.Context(), token)
		if err != nil || o.ID != "zhao" {
			t.Fatalf("Login = %+v, %v", o, err)
		}
		if _, err := r.desk.Login(t.Context(), token); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Login with one link: %v, want ErrNotFound", err)
		}
		if _, err := r.desk.Login(t.Context(), "made-up"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Login with a made-up token: %v, want ErrNotFound", err)
		}
		if got := r.cmd(t, "wang", "登录"); strings.Contains(got, "https://") || !strings.Contains(got, "科室负责人") {
			t.Errorf("an officer who is no chief got %q", got)
		}
		if o, err := r.desk.Login(t.Context(), token+"x"); err == nil {
			t.Errorf("a changed token logged in %s", o.ID)
		}
		if got := r.cmd(t, "zhou", "工作台"); !strings.Contains(got, "https://huimin.test/desk/login/") {
			t.Errorf("the leader's 工作台 got %q", got)
		}
	})
}

func TestLoginWithoutWebAddress(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-24 10:00"))
		r.desk.rules.LoginURL = ""
		if got := r.cmd(t, "zhao", "登录"); strings.Contains(got, "https://") || !strings.Contains(got, "web.base_url") {
			t.Errorf("登录 without web.base_url answered %q", got)
		}
	})
}

// TestBoard: a chief's board lists what needs them in their departments
// only.
func TestBoard(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-24 10:00"))
		late := r.open(t, "oA", "relief", "help")
		r.clock.Set(at("2026-12-03 10:00")) // past the 3 working days
		soon := r.open(t, "oB", "relief", "help")
		other := r.open(t, "oC", "veterans", "help")
		r.clock.Set(at("2026-12-07 09:00"))
		b, err := r.desk.Board(t.Context(), r.off["zhao"])
		if err != nil {
			t.Fatal(err)
		}
		has := func(list []string, id string) bool {
			for _, x := range list {
				if x == id {
					return true
				}
			}
			return false
		}
		var overdue, dueSoon []string
		for _, tk := range b.Overdue {
			overdue = append(overdue, tk.ID)
		}
		for _, tk := range b.DueSoon {
			dueSoon = append(dueSoon, tk.ID)
		}
		if !has(overdue, late.ID) || has(overdue, soon.ID) || has(overdue, other.ID) || has(dueSoon, other.ID) {
			t.Errorf("overdue %v, due soon %v (late %s, soon %s, other department %s)", overdue, dueSoon, late.ID, soon.ID, other.ID)
		}
		if !has(dueSoon, soon.ID) {
			t.Errorf("due soon %v lacks %s", dueSoon, soon.ID)
		}
		if _, err := r.desk.Board(t.Context(), r.off["wang"]); !errors.Is(err, ErrNotYours) {
			t.Errorf("an officer's board: %v, want ErrNotYours", err)
		}
	})
}

// TestResultsDrillDown: a chief's results by window, then a window's
// officers, then an officer's tickets, of their departments only.
func TestResultsDrillDown(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-24 10:00"))
		var ids []string
		for _, town := range []string{"城关街道", "城关街道", "东湖街道"} {
			tk, err := r.desk.Open(t.Context(), OpenRequest{Citizen: "oA", Line: "relief", Inquiry: "help", Summary: "想申请临时救助",
				Fields: map[string]string{FieldTown: town}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		other, err := r.desk.Open(t.Context(), OpenRequest{Citizen: "oB", Line: "veterans", Inquiry: "help", Summary: "优抚金"})
		if err != nil {
			t.Fatal(err)
		}
		q := ResultsQuery{From: at("2026-11-01 00:00"), To: at("2026-12-01 00:00")}
		tab, err := r.desk.Results(t.Context(), r.off["zhao"], q)
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string]int{}
		for _, rw := range tab.Rows {
			rows[rw.ID] = rw.Received
		}
		if rows["w-chengguan"] != 2 || rows["relief"] != 1 || rows["veterans"] != 0 || tab.Total.Received != 3 {
			t.Errorf("zhao's windows %v, total %d (the veterans' ticket %s is qian's)", rows, tab.Total.Received, other.ID)
		}
		q.Window = "w-chengguan"
		tab, err = r.desk.Results(t.Context(), r.off["zhao"], q)
		if err != nil {
			t.Fatal(err)
		}
		owner := r.ticket(t, ids[0]).Owner
		var found bool
		for _, rw := range tab.Rows {
			if rw.ID == owner && rw.Received >= 1 {
				found = true
			}
		}
		if !found || tab.Total.Received != 2 {
			t.Errorf("w-chengguan's officers %+v, want %s among them", tab.Rows, owner)
		}
		q.Officer = owner
		tab, err = r.desk.Results(t.Context(), r.off["zhao"], q)
		if err != nil {
			t.Fatal(err)
		}
		if len(tab.Tickets) == 0 || tab.Tickets[0].ID != ids[0] {
			t.Errorf("%s's tickets in w-chengguan: %+v", owner, tab.Tickets)
		}
		if _, err := r.desk.Results(t.Context(), r.off["zhao"], ResultsQuery{From: q.To, To: q.From}); !errors.Is(err, ErrInvalid) {
			t.Errorf("a period upside down: %v, want ErrInvalid", err)
		}
		if _, err := r.desk.Results(t.Context(), r.off["wang"], ResultsQuery{From: q.From, To: q.To}); !errors.Is(err, ErrNotYours) {
			t.Errorf("an officer's results: %v, want ErrNotYours", err)
		}
	})
}
