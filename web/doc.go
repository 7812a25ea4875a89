// Package web serves Huimin's pages: html/template with a base layout, one
// template per page, embedded assets, and texts from texts.yaml. Pages work
// without JavaScript, read well at 390 px wide, print cleanly, and carry a
// strict Content-Security-Policy. The service registers them on its HTTP
// server (Pages.Register); their data comes through small interfaces and
// records declared here, filled in by cmd/huimin.
//
// Pages today: /offices (办事指南·联系方式), the bureau's departments and
// outside agencies, what each handles, and how to reach it. The return
// visit survey, the published results and the supervisors' pages will live
// here too.
package web
