require ["variables", "fileinto"];
if header :matches "subject" "*の*" { fileinto "jp-${1}-${2}"; }
