package tokensfile

// Encode is encode, for the fuzz target: the content Write puts in place of old.
var Encode = encode

// Parse is parse, for the tests and the fuzz target: Read without the file.
var Parse = parse
