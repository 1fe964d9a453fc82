require ["ereject"];
if size :over 10K { ereject "too big"; }
