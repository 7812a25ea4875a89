package redisstore

// OpenIndexVersion is what the marker of built open indexes holds, for
// the tests that set or check it.
const OpenIndexVersion = openIndexVersion
