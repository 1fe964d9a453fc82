require ["fileinto"];
if header :matches "x-nothing" "*" { fileinto "Never"; }
