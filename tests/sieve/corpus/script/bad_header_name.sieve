require ["fileinto"];
if header :is "bad name" "x" { fileinto "X"; }
