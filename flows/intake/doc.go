// Package intake holds the citizen conversation flows as data and a pure
// interpreter for them.
//
// A [Set] is loaded from YAML files (defaults embedded in the binary, see
// [Defaults]; a configured directory overrides them file by file) by [Load],
// or kept current by a [Watcher] that reloads it when the directory changes.
// The files are:
//
//   - menu.yaml: the greeting, the numbered main menu, the account's custom
//     menu buttons ([Set.Buttons]) and the command words;
//   - texts.yaml: every sentence the interpreter itself says (re-asks,
//     confirmation, knowledge-base feedback);
//   - kb.yaml and kb-*.yaml: the knowledge base of common questions;
//   - guides.yaml and guides-*.yaml: the service guides (办事指南), one per
//     typical matter of a line ([Guide]): the knowledge base answers with
//     a whole guide when a question matches its keywords (一次性告知), and a
//     flow offers its line's guides before its first question
//     (办理前先看办事指南？ 1. 看指南 2. 直接办理; a flow may name one with
//     guide: <id>);
//   - any other *.yaml: one flow each (relief.yaml, veterans.yaml, …).
//
// The interpreter never does I/O. The engine in package flows keeps a
// [State] per citizen, passes each message as an [Input] to [Set.Step], sends
// the returned [Prompt]s, saves [Result.State] and acts on [Result.Outcome]
// (open a ticket, hand over to a person) and [Result.Command] (show the
// citizen's tickets). This package must not import huimin/flows: flows
// imports it.
//
// Flow file schema (every key is checked; unknown keys are errors):
//
//	id: relief                 # unique flow ID, used by menu.yaml
//	title: 低保、特困、临时救助   # shown in notes
//	line: relief               # service line key of the ticket
//	inquiry: help              # default inquiry type when no step saves "inquiry"
//	intro: 好的，……             # optional, said before the first question
//	guide: dibao               # optional: the guide offered (default: the line's)
//	steps:
//	  - id: inquiry            # unique within the flow
//	    type: choice           # choice | text | phone | idcard | date | confirm | attach
//	    ask: 请问您是想……？
//	    field: inquiry         # where the answer is saved (not for confirm and attach)
//	    label: 类型             # short name in the summary
//	    options:               # choice only; numbered 1.. in order; at most 9
//	      - {label: 咨询政策, value: consult}
//	      - {label: 投诉, value: complaint, next: detail}  # branch
//	    next: town             # optional; default the following step, "end" the outcome
//	    optional: true         # text, phone, idcard, date: may be skipped with 1
//	    min: 2                 # text: minimum length in characters
//	    max: 300               # text: maximum length (at most 2000)
//	    when: workday          # date: past | future | workday (relative to Input.At)
//	outcome: {kind: ticket, text: 已为您登记。}   # ticket | answer | handover
//	endings:                   # optional named outcomes, targets of next
//	  docs: {kind: answer, text: 结婚登记需要……, office: marriage}  # office: see below
//
// A workday date is an appointment: a working day on the bureau's calendar,
// not before today and not after the deadline the desk would give the
// matter ([Options]); a date refused is asked again saying why, with the
// next working days to send. An {example} in a date question is computed
// the same way, never written in the file.
//
// An answer (a knowledge-base entry, a flow's answer ending) ends with the
// office it sends the citizen to (一次性告知), rendered from the office text
// of texts.yaml with the contact the bureau configured ([Office]); a line
// whose field is empty is left out. Its office is a department or agency
// ID, or a service line: by default the entry's or the flow's line, whose
// office is an outside agency listing it (the 退役军人事务局 for most
// 优抚 and 双拥 matters), else the department.
//
// Inquiry types are the keys consult, help, complaint, report and
// suggestion ([InquiryTypes]); service lines are keys such as relief,
// veterans, military, elderly, community, marriage and socialorg.
//
// menu.yaml holds greeting, head, tail, items (at most 9, each {label, flow}
// or {label, action} with action kb, status, human, help or menu), buttons
// (at most 3 of {name, flow | action | url | sub}) and commands (back,
// cancel, human, help, status, menu: lists of words). kb.yaml holds entries
// of {id, line, office, question, keywords, answer, featured}; a keyword
// "低保+材料" needs both parts. guides.yaml holds guides of {id, line,
// title, who, materials, basis, fee, office, inquiry, keywords}: where and
// when come from the line's configured office, the time limit from the
// desk's deadlines ([Options.Limit]), and an empty field is left out.
// texts.yaml holds every key of the default file; a
// bureau overriding it copies the default and edits.
//
// Before a flow's first question for a phone or ID number the citizen
// sees the personal-information notice (why it is asked, who sees it, how
// long it is kept: [Options].Retention) and agrees once: [Result].Consented
// tells the engine to record it, [Input].Consented that it is on record.
// Refusing ends the flow with nothing submitted or kept (consent.go).
//
// What the engine does with a [Result]: save State as is (a zero State
// means no flow runs, but may carry attachments); if Command is CmdStatus,
// show the citizen's tickets; send the Prompts in order; when Outcome is a
// ticket, open one from it and send Outcome.Text with the ticket number;
// when it is a handover, hand over to a person and send Outcome.Text; an
// answer outcome needs nothing but may be counted. The engine may also
// catch 人工 and 进度 itself with [Set.Command] before calling Step.
package intake
