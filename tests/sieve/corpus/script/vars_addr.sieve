require ["variables", "fileinto"];
if address :matches :domain "from" "*.*" { fileinto "dom-${1}"; }
