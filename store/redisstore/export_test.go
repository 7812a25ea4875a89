package redisstore

// FactsVersion is factsVersion, for the external tests that mark a fresh
// prefix's facts index as built.
var FactsVersion = factsVersion
