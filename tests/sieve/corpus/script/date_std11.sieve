require ["date", "fileinto", "variables"];
if date :zone "+0000" :matches "date" "std11" "*" { fileinto "${1}"; }
