require ["regex", "variables", "fileinto"];
if address :regex :all "from" "^([^@]+)@(.+)$" { fileinto "${2}/${1}"; }
