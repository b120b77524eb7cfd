# Unit tests of the Perl adapter: prove t/ (from this directory).
use strict;
use warnings;

use FindBin;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Test::More;

require "$FindBin::Bin/../thirdlane-sms-adapter.pl";

my $SECRET = 'whsec_' . encode_base64('k' x 32, '');
my $JSON = JSON::PP->new->utf8->canonical;
my %MESSAGE = (type => 'sms.outbound', message_id => 'sms_1', tenant => 'acme', from => '+14155550199',
               to => '+14155550100', text => 'Hi', encoding => 'gsm7', segments => 1);

sub signed {
    my ($body, $secret, $stamp) = @_;
    $stamp //= time;
    return { 'webhook-id' => 'sms_1', 'webhook-timestamp' => $stamp,
             'webhook-signature' => main::sign($secret // $SECRET, 'sms_1', $stamp, $body) };
}

subtest 'signatures' => sub {
    my $body = '{"a":1}';
    ok(main::verify([$SECRET], signed($body), $body), 'made with the secret: verifies');
    ok(!main::verify([$SECRET], signed($body), '{"a":2}'), 'changed body: refused');
    ok(!main::verify(['whsec_' . encode_base64('x' x 32, '')], signed($body), $body), 'wrong secret: refused');
    ok(!main::verify([$SECRET], signed($body, $SECRET, time - 3600), $body), 'stale: refused');
    ok(!main::verify([$SECRET], {}, $body), 'unsigned: refused');
    my %vector = ('webhook-id' => 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp' => '1614265330',
                  'webhook-signature' => 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    ok(main::verify(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], \%vector, '{"test": 2432232314}', 1614265330),
       'the Standard Webhooks test vector verifies');
};

subtest 'translation' => sub {
    is_deeply(main::to_carrier(\%MESSAGE), { from => '+14155550199', to => '+14155550100', body => 'Hi',
                                             reference => 'sms_1' });
    is_deeply(main::to_portal({ event => 'message', id => 7, from => '+1', to => '+2', body => 'yo' }),
              { type => 'message', carrier_message_id => '7', from => '+1', to => '+2', text => 'yo' });
    is_deeply(main::to_portal({ event => 'status', id => 'c9', reference => 'sms_1', status => 'failed',
                                error_code => 'E30', error_message => 'Absent' }),
              { type => 'receipt', carrier_message_id => 'c9', status => 'failed', message_id => 'sms_1',
                error_code => 'E30', reason => 'Absent' });
    ok(!eval { main::to_portal({ event => 'bogus' }); 1 }, 'unknown events are refused');
};

# A carrier that answers from a list, in a child process.
sub fake_carrier {
    my @answers = @_;
    my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, ReuseAddr => 1)
        or die $!;
    my $pid = fork;
    if (!$pid) {
        while (my $c = $server->accept) {
            local $/ = "\r\n";
            my ($length, $auth) = (0, '');
            while (defined(my $h = <$c>)) {
                $h =~ s/\r?\n$//;
                last if $h eq '';
                $length = $1 if $h =~ /^content-length:\s*(\d+)/i;
                $auth = $1 if $h =~ /^authorization:\s*(.*)/i;
            }
            read($c, my $body, $length);
            my ($status, $data) = @{ @answers > 1 ? shift @answers : $answers[0] };
            $data->{auth} = $auth if $status < 300;
            my $raw = $JSON->encode($data);
            print {$c} "HTTP/1.1 $status X\r\nContent-Length: " . length($raw) . "\r\nConnection: close\r\n\r\n$raw";
            close $c;
        }
        exit 0;
    }
    return ($pid, 'http://127.0.0.1:' . $server->sockport);
}

subtest 'send' => sub {
    my ($pid, $url) = fake_carrier([201, { id => 'c-1' }], [400, { error => { code => '21211', message => 'Invalid To' } }],
                                   [503, { error => { message => 'maintenance' } }]);
    my $adapter = main::new_adapter(main::config({ PORTAL_SECRET => $SECRET, PORTAL_INBOUND_URL => 'http://127.0.0.1:9/',
                                                   PROVIDER_KEY => 'k', CARRIER_URL => $url, CARRIER_TOKEN => 't0k' }));
    my $body = $JSON->encode(\%MESSAGE);
    my ($status, $answer) = main::send_message($adapter, signed($body), $body);
    is_deeply([$status, $answer], [200, { carrier_message_id => 'c-1' }], 'sent');
    ($status, $answer) = main::send_message($adapter, signed($body), $body);
    is($answer->{carrier_message_id}, 'c-1', 'a repeat is answered from memory, not sent again');
    is((main::send_message($adapter, signed($body, 'whsec_' . ('QUJD' x 8)), $body))[0], 401, 'bad signature: 401');
    my $other = $JSON->encode({ %MESSAGE, message_id => 'sms_2' });
    my $headers = signed($other);
    $headers->{'webhook-signature'} = main::sign($SECRET, 'sms_1', $headers->{'webhook-timestamp'}, $other);
    ($status, $answer) = main::send_message($adapter, $headers, $other);
    is_deeply([$status, $answer->{error}{message}], [422, 'Invalid To'], 'carrier refusal: 422 with its reason');
    ($status, $answer) = main::send_message($adapter, $headers, $other);
    is_deeply([$status, $answer->{error}{code}], [502, 'carrier_unavailable'], 'carrier outage: 502');
    kill 'TERM', $pid;
    waitpid $pid, 0;
};

subtest 'config' => sub {
    ok(!eval { main::config({ PORTAL_SECRET => $SECRET }); 1 }, 'missing settings stop it');
    like($@, qr/CARRIER_URL/, '... naming them');
};

done_testing;
