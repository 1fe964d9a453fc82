require ["fileinto"];
if address :matches "from" "*@*.example*" { fileinto "Sub"; }
