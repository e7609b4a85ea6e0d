// Twilio's published signalling source ranges (Elastic SIP Trunking / Programmable Voice SIP).
// The legacy per-edge /30s plus the consolidated 168.86.128.0/18. Override with relay.allowedSources.
export const TWILIO_SIGNALLING_CIDRS: readonly string[] = [
  '54.172.60.0/30', // North America Virginia
  '54.244.51.0/30', // North America Oregon
  '54.171.127.192/30', // Europe Ireland
  '35.156.191.128/30', // Europe Frankfurt
  '54.65.63.192/30', // Asia Pacific Tokyo
  '54.169.127.128/30', // Asia Pacific Singapore
  '54.252.254.64/30', // Asia Pacific Sydney
  '177.71.206.192/30', // South America Sao Paulo
  '168.86.128.0/18', // consolidated edge range
];
