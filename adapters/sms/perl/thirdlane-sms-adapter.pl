#!/usr/bin/env perl
# Thirdlane SMS reference adapter (Perl core modules only: IO::Socket::INET, HTTP::Tiny, JSON::PP,
# Digest::SHA, MIME::Base64).
#
#   portal  --POST /messages (Standard Webhooks signed)--> adapter --POST $CARRIER_URL/messages--> carrier
#   carrier --POST /carrier (message or status)----------> adapter --POST $PORTAL_INBOUND_URL-----> portal
#
# Configuration comes from the environment (see README.md). Run: perl thirdlane-sms-adapter.pl
# One request at a time: simple and enough for a few messages a second; run several behind a
# balancer (or use the Python or Node adapter) for more.
use strict;
use warnings;

use Digest::SHA qw(hmac_sha256);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(decode_base64 encode_base64);

my $TOLERANCE = 300;    # seconds a signature's timestamp may differ from our clock
my $JSON = JSON::PP->new->utf8->canonical;

# --- Standard Webhooks -------------------------------------------------------------------------
sub secret_key {
    my ($secret) = @_;
    $secret =~ s/^whsec_//;
    return decode_base64($secret);
}

sub sign {
    my ($secret, $msg_id, $timestamp, $body) = @_;
    return 'v1,' . encode_base64(hmac_sha256("$msg_id.$timestamp.$body", secret_key($secret)), '');
}

sub equal_strings {    # constant time for equal lengths
    my ($x, $y) = @_;
    return 0 unless length($x) == length($y);
    my $diff = 0;
    $diff |= ord(substr($x, $_, 1)) ^ ord(substr($y, $_, 1)) for 0 .. length($x) - 1;
    return $diff == 0;
}

sub verify {
    my ($secrets, $headers, $body, $now) = @_;
    my ($id, $stamp, $given) = map { $headers->{$_} // '' } qw(webhook-id webhook-timestamp webhook-signature);
    return 0 unless length $id && length $stamp && length $given;
    return 0 unless $stamp =~ /^\d+$/;
    $now //= time;
    return 0 if abs($now - $stamp) > $TOLERANCE;
    my @expected = map { sign($_, $id, $stamp, $body) } @$secrets;
    for my $part (split ' ', $given) {
        for my $want (@expected) { return 1 if equal_strings($part, $want) }
    }
    return 0;
}

# --- translation -------------------------------------------------------------------------------
sub to_carrier {
    my ($m) = @_;
    for my $field (qw(message_id from to text)) {
        die "missing $field\n" unless defined $m->{$field} && !ref $m->{$field};
    }
    return { from => $m->{from}, to => $m->{to}, body => $m->{text}, reference => $m->{message_id} };
}

sub to_portal {
    my ($e) = @_;
    my $event = $e->{event} // '';
    if ($event eq 'message') {
        return { type => 'message', carrier_message_id => "$e->{id}", from => $e->{from}, to => $e->{to},
                 text => $e->{body} // '' };
    }
    if ($event eq 'status') {
        my $out = { type => 'receipt', carrier_message_id => "$e->{id}", status => $e->{status} };
        $out->{message_id} = $e->{reference} if $e->{reference};
        if (($e->{status} // '') eq 'failed') {
            $out->{error_code} = substr($e->{error_code} // '', 0, 40);
            $out->{reason} = substr($e->{error_message} // '', 0, 500);
        }
        return $out;
    }
    die "unknown carrier event '$event'\n";
}

# --- the adapter -------------------------------------------------------------------------------
sub config {
    my ($env) = @_;
    $env //= \%ENV;
    my @missing = grep { !$env->{$_} } qw(PORTAL_SECRET PORTAL_INBOUND_URL PROVIDER_KEY CARRIER_URL);
    die 'missing environment: ' . join(', ', @missing) . "\n" if @missing;
    (my $carrier = $env->{CARRIER_URL}) =~ s{/+$}{};
    return {
        secrets => [split ' ', $env->{PORTAL_SECRET}],
        inbound_url => $env->{PORTAL_INBOUND_URL},
        provider_key => $env->{PROVIDER_KEY},
        carrier_url => $carrier,
        carrier_token => $env->{CARRIER_TOKEN} // '',
        carrier_webhook_token => $env->{CARRIER_WEBHOOK_TOKEN} // '',
        sign_inbound => (($env->{SIGN_INBOUND} // '1') !~ /^(0|false|no)$/) ? 1 : 0,
        timeout => $env->{TIMEOUT} || 10,
        bind => $env->{BIND} || '127.0.0.1',
        port => $env->{PORT} // 8080,
    };
}

sub new_adapter {
    my ($cfg) = @_;
    return { cfg => $cfg, sent => {}, order => [],
             http => HTTP::Tiny->new(timeout => $cfg->{timeout}, keep_alive => 1, agent => 'thirdlane-sms-adapter-perl/1') };
}

sub post_json {
    my ($adapter, $url, $body, $headers) = @_;
    my $res = $adapter->{http}->request('POST', $url, {
        headers => { 'Content-Type' => 'application/json', %$headers }, content => $body });
    # HTTP::Tiny reports connection failures and timeouts as status 599 with the reason in content.
    return (undef, {}, "$res->{reason}: $res->{content}") if $res->{status} == 599;
    my $answer = eval { $JSON->decode($res->{content} || '{}') };
    return ($res->{status}, (ref $answer eq 'HASH' ? $answer : {}), '');
}

sub send_message {
    my ($adapter, $headers, $body) = @_;
    my $cfg = $adapter->{cfg};
    return (401, { error => { code => 'invalid_signature', message => 'The portal signature does not verify.' } })
        unless verify($cfg->{secrets}, $headers, $body);
    my ($message, $request);
    eval { $message = $JSON->decode($body); $request = to_carrier($message); 1 }
        or return (400, { error => { code => 'bad_request', message => "Not a portal message: $@" } });
    my $known = $adapter->{sent}{ $message->{message_id} };
    return (200, { carrier_message_id => $known }) if defined $known;   # a repeated try: not sent twice
    my %auth = $cfg->{carrier_token} ? (Authorization => "Bearer $cfg->{carrier_token}") : ();
    my ($status, $answer, $error) = post_json($adapter, "$cfg->{carrier_url}/messages", $JSON->encode($request), \%auth);
    my $err = ref $answer->{error} eq 'HASH' ? $answer->{error} : {};
    if (!defined $status || $status >= 500 || $status == 408 || $status == 429) {
        my $detail = $error || "HTTP $status" . ($err->{message} ? ": $err->{message}" : '');
        return (502, { error => { code => 'carrier_unavailable', message => "carrier: $detail" } });
    }
    if ($status >= 400) {
        return (422, { error => { code => 'carrier_rejected', carrier_code => '' . ($err->{code} // $status),
                                  message => '' . ($err->{message} || "HTTP $status") } });
    }
    my $carrier_id = $answer->{id};
    return (502, { error => { code => 'carrier_unavailable', message => 'carrier: no message id' } })
        unless defined $carrier_id && length $carrier_id;
    $adapter->{sent}{ $message->{message_id} } = "$carrier_id";
    push @{ $adapter->{order} }, $message->{message_id};
    delete $adapter->{sent}{ shift @{ $adapter->{order} } } while @{ $adapter->{order} } > 100_000;
    return (200, { carrier_message_id => "$carrier_id" });
}

sub carrier_callback {
    my ($adapter, $headers, $body) = @_;
    my $cfg = $adapter->{cfg};
    if (length $cfg->{carrier_webhook_token}) {
        return (401, { error => { code => 'invalid_token', message => 'Wrong carrier token.' } })
            unless equal_strings($headers->{'x-carrier-token'} // '', $cfg->{carrier_webhook_token});
    }
    my $inbound;
    eval { $inbound = to_portal($JSON->decode($body)); 1 }
        or return (400, { error => { code => 'bad_request', message => "$@" } });
    my $raw = $JSON->encode($inbound);
    my %out = ('X-SMS-Provider-Key' => $cfg->{provider_key});
    if ($cfg->{sign_inbound}) {
        my ($id, $now) = ("msg_$inbound->{type}_$inbound->{carrier_message_id}", time);
        %out = (%out, 'webhook-id' => $id, 'webhook-timestamp' => $now,
                'webhook-signature' => sign($cfg->{secrets}[0], $id, $now, $raw));
    }
    my ($status, $answer, $error) = post_json($adapter, $cfg->{inbound_url}, $raw, \%out);
    return (200, $answer) if defined $status && $status >= 200 && $status < 300;
    return (422, { error => { code => 'portal_refused', status => $status, portal => $answer } })
        if defined $status && $status >= 400 && $status < 500;
    return (502, { error => { code => 'portal_unavailable', message => $error || "HTTP $status" } });
}

# --- a minimal HTTP/1.1 server (one request per connection) -------------------------------------
sub handle_connection {
    my ($adapter, $client) = @_;
    $client->autoflush(1);
    local $/ = "\r\n";
    my $line = <$client>;
    return unless defined $line;
    my ($method, $path) = $line =~ m{^(\S+)\s+(\S+)};
    my %headers;
    while (defined(my $h = <$client>)) {
        $h =~ s/\r?\n$//;
        last if $h eq '';
        my ($k, $v) = split /:\s*/, $h, 2;
        $headers{ lc $k } = $v if defined $v;
    }
    my $body = '';
    my $length = $headers{'content-length'} // 0;
    while (length($body) < $length) {
        my $read = read($client, $body, $length - length($body), length $body);
        last unless $read;
    }
    $path =~ s/\?.*//;
    $path =~ s{/+$}{};
    my ($status, $data) = eval {
        return (200, { ok => JSON::PP::true }) if $method eq 'GET' && $path eq '/health';
        return send_message($adapter, \%headers, $body) if $method eq 'POST' && $path eq '/messages';
        return carrier_callback($adapter, \%headers, $body) if $method eq 'POST' && $path eq '/carrier';
        return (404, { error => { code => 'not_found', message => 'No such path.' } });
    };
    ($status, $data) = (500, { error => { code => 'internal_error', message => "$@" } }) unless defined $status;
    my $raw = $JSON->encode($data);
    my %reason = (200 => 'OK', 400 => 'Bad Request', 401 => 'Unauthorized', 404 => 'Not Found',
                  422 => 'Unprocessable Content', 500 => 'Internal Server Error', 502 => 'Bad Gateway');
    print {$client} "HTTP/1.1 $status " . ($reason{$status} // 'Status') . "\r\nContent-Type: application/json\r\n"
        . 'Content-Length: ' . length($raw) . "\r\nConnection: close\r\n\r\n$raw";
}

sub main {
    my $cfg = eval { config() } or do { print STDERR $@; exit 2 };
    my $server = IO::Socket::INET->new(LocalAddr => $cfg->{bind}, LocalPort => $cfg->{port}, Listen => 128,
                                       ReuseAddr => 1, Proto => 'tcp') or die "cannot listen: $!\n";
    $| = 1;
    print "thirdlane-sms-adapter (perl) listening on $cfg->{bind}:" . $server->sockport . "\n";
    my $adapter = new_adapter($cfg);
    $SIG{TERM} = sub { exit 0 };
    $SIG{PIPE} = 'IGNORE';
    while (my $client = $server->accept) {
        eval { handle_connection($adapter, $client) };
        print STDERR "request failed: $@" if $@;
        close $client;
    }
}

main() unless caller;
1;
