// Package web serves Huimin's pages for people with a browser: citizens who
// follow a link from the Official Account, the public reading the bureau's
// results, and, later, supervisors.
//
// Pages are html/template with one base layout (templates/base.html) and
// one template per page, the stylesheet and templates embedded, and every
// word from texts.yaml. They work without JavaScript, read at 390 px wide,
// print cleanly, and carry a Content-Security-Policy that allows no script
// at all. A page handler returns an error, and one place (Pages.handle)
// logs it and answers with the error page.
//
// Data comes through small interfaces declared here (OfficeLister,
// SurveyDesk …). Read-only pages take records of this package (Office …),
// which cmd/huimin fills from the desk and the flows; pages that act call
// the desk's own operations (SurveyDesk is *desk.Desk), so that a survey
// is answered by the same rule on the page as in the chat, and web
// imports desk and store for their records and typed errors. A page whose
// source is not given is not registered.
//
// Pages today: GET /offices (办事指南·联系方式), and GET and POST
// /survey/{token} (回访评价), the return-visit survey a citizen opens from
// the survey's WeChat message. With WeChat's web authorisation configured
// (Options.OAuth, survey.oauth), the survey page first sends a browser it
// does not know to WeChat's authorize page (snsapi_base, the state in a
// cookie), takes WeChat's code back for the openid, keeps that in a
// signed cookie of that survey's page for 30 minutes, and lets only the
// ticket's citizen answer: an officer who opens the link is refused.
//
// The public satisfaction results and the supervisors' pages (login
// links, CSRF-protected forms, session cookies) are meant to live here too.
package web
