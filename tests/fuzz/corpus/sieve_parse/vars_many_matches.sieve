require ["variables", "fileinto"];
if header :matches "from" "*<*@*.*>" { fileinto "${1}|${2}|${3}|${4}"; }
