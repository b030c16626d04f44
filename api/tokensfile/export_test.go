package tokensfile

// Encode is encode, for the fuzz target: the content Write puts in place of old.
var Encode = encode
