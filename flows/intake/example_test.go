package intake_test

import (
	"fmt"

	"huimin/flows/intake"
)

// The engine keeps State in the citizen's session, passes every message to
// Step, sends the prompts and acts on the outcome. Before the phone number
// the citizen agrees to the personal-information notice (同意).
func ExampleSet_Step() {
	set, err := intake.Load(intake.Defaults(), "")
	if err != nil {
		fmt.Println(err)
		return
	}
	var st intake.State
	for _, msg := range []string{"1", "直接办理", "第一个", "2", "城关街道", "想申请低保，不知道要什么材料", "1", "1", "同意", "138 1234 5678", "1"} {
		r := set.Step(st, intake.Input{Text: msg})
		st = r.State
		if o := r.Outcome; o != nil {
			fmt.Println(o.Kind, o.Line, o.Inquiry, o.Phone)
			fmt.Println(o.Summary)
			fmt.Println(o.Text)
		}
	}
	// Output:
	// ticket relief help 13812345678
	// 事项：低保申请；街道（镇）：城关街道；情况：想申请低保，不知道要什么材料
	// 已为您登记，工作人员会尽快联系您。
}
