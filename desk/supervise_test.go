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
