require ["fileinto"];
if header :is "to" "Bob <bob+lists@example.com>, carol@example.net" { fileinto "ToExact"; }
