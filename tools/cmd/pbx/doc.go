// Command pbx runs the development PBX: a registrar with digest auth, a
// proxy between registered extensions over UDP, and voicemail (calls to
// 8000 reach the caller's mailbox, 8000*EXT leaves a message for EXT; busy,
// unavailable and forwarded calls reach the callee's; message lamps are lit
// by NOTIFY message-summary).
//
//	pbx -listen 127.0.0.1:5060 -realm deskphone -users 1001:pw1,1002:pw2 -ladder
//	pbx -voicemail-dir ./voicemail -voicemail-max 2m
//
// Without -users or -users-file it serves extensions 1001 to 1010 with
// passwords pw1001 to pw1010.
package main
