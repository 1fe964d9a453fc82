require ["variables", "fileinto"];
set "a" "x";
if string :is "${a}" "x" { fileinto "StrOK"; }
