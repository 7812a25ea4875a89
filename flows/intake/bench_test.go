package intake

import "testing"

// BenchmarkIdle measures the interpreter on what most messages are: a
// greeting or a menu choice from a person at the main menu.
func BenchmarkIdle(b *testing.B) {
	s, err := Load(Defaults(), "")
	if err != nil {
		b.Fatal(err)
	}
	for _, text := range []string{"你好", "1", "查询进度", "低保怎么申请"} {
		b.Run(text, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Step(State{}, Input{Kind: KindText, Text: text})
			}
		})
	}
}
