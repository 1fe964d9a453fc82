require ["fileinto"];
if header :matches "x-priority" "?" { fileinto "Prio"; }
